package ja

import (
	"testing"
	"unicode/utf8"
)

func TestFold(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		// orig is the original text of each rune of the folded text.
		orig []string
	}{
		{"ascii unchanged", "vSAN 6.6", "vSAN 6.6", []string{"v", "S", "A", "N", " ", "6", ".", "6"}},
		{"japanese unchanged", "拡張クラスタ", "拡張クラスタ", []string{"拡", "張", "ク", "ラ", "ス", "タ"}},
		{"full-width latin", "ＶＣＨＡ", "VCHA", []string{"Ｖ", "Ｃ", "Ｈ", "Ａ"}},
		{"half-width katakana and voiced marks", "ｶﾞｲﾄﾞ", "ガイド", []string{"ｶﾞ", "ｲ", "ﾄﾞ"}},
		{"symbol that NFKC spells out is kept", "vSphere™", "vSphere™", []string{"v", "S", "p", "h", "e", "r", "e", "™"}},
		{"ideographic space", "a\u3000b", "a b", []string{"a", "\u3000", "b"}},
		{"invalid utf-8 passes byte for byte", "Ａ\xffb", "A\xffb", []string{"Ａ", "\xff", "b"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Fold(tc.in)
			if f.Text != tc.want {
				t.Fatalf("Fold(%q) = %q, want %q", tc.in, f.Text, tc.want)
			}
			var got []string
			for i := 0; i < len(f.Text); {
				_, n := utf8.DecodeRuneInString(f.Text[i:])
				s, e := f.Orig(i, i+n)
				got = append(got, tc.in[s:e])
				i += n
			}
			if len(got) != len(tc.orig) {
				t.Fatalf("originals %q, want %q", got, tc.orig)
			}
			for i := range got {
				if got[i] != tc.orig[i] {
					t.Errorf("rune %d comes from %q, want %q", i, got[i], tc.orig[i])
				}
			}
		})
	}
}

func TestStemKatakana(t *testing.T) {
	for in, want := range map[string]string{
		"サーバー":   "サーバ", // four characters: the mark goes
		"コピー":    "コピー", // three: it stays
		"ユーザー":   "ユーザ",
		"データベース": "データベース", // no mark at the end
		"ゲーム機ー":  "ゲーム機ー",  // not katakana alone
		"":       "",
	} {
		if got := StemKatakana(in); got != want {
			t.Errorf("StemKatakana(%q) = %q, want %q", in, got, want)
		}
	}
}
