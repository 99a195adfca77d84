package index

import (
	"fmt"
	"strings"
	"testing"
)

func TestGrams(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"katakana and kanji", "アプリの設定を変更", "アプ@1 プリ@2 設定@3 変更@4"},
		{"width folded", "ｻｰﾊﾞｰ設定", "サー@1 ーバ@2 バー@3 ー設@4 設定@5"},
		{"hiragana and Latin cut runs", "vSAN6.6の重複排除と圧縮", "重複@1 複排@2 排除@3 圧縮@4"},
		{"single characters make no pair", "本と木", ""},
		{"nothing Japanese", "VMware vSphere", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			grams(tc.in, func(g string, pos int) { got = append(got, fmt.Sprintf("%s@%d", g, pos)) })
			if s := strings.Join(got, " "); s != tc.want {
				t.Errorf("grams(%q) = %q, want %q", tc.in, s, tc.want)
			}
		})
	}
}
