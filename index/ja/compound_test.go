package ja

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func partsOf(m *Morphology, word string) string {
	var s []string
	for _, p := range m.Parts(word, nil) {
		s = append(s, word[p[0]:p[1]])
	}
	return strings.Join(s, " ")
}

func TestParts(t *testing.T) {
	m := testMorphology(t)
	for _, tc := range []struct{ name, in, want string }{
		{"two words", "ネットワークアダプター", "ネットワーク アダプター"},
		{"long vowel stays with its word", "ストレージコントローラー", "ストレージ コントローラー"},
		{"three words", "ワークロードドメイン", "ワーク ロード ドメイン"},
		{"a dictionary compound", "メールアドレス", "メール アドレス"},
		{"a stretch that is no word", "ヴイエムウェアドメイン", "ヴイエムウェア ドメイン"},
		{"no part starts with a small kana or ン", "レイテンシ", ""},
		{"short words are not split", "サーバー", ""},
		{"not all katakana", "ストレージの設定", ""},
		{"no word at all", "ヴヴヴヴヴヴヴ", ""},
		{"too long", strings.Repeat("ドメイン", 13), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := partsOf(m, tc.in); got != tc.want {
				t.Errorf("Parts(%s): got %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// FuzzParts checks that the parts of any word spell it, in order, on
// character boundaries.
func FuzzParts(f *testing.F) {
	for _, s := range []string{"ワークロードドメイン", "ストレージコントローラー", "ーーーーーー", "ァァァァァァ", "ア\xffイウエオカ"} {
		f.Add(s)
	}
	m := testMorphology(f)
	f.Fuzz(func(t *testing.T, s string) {
		parts := m.Parts(s, nil)
		if len(parts) == 1 {
			t.Fatalf("Parts(%q): one part", s)
		}
		end := 0
		for _, p := range parts {
			if p[0] != end || p[1] <= p[0] || !utf8.RuneStart(s[p[0]]) {
				t.Fatalf("Parts(%q): %v do not tile the word", s, parts)
			}
			end = p[1]
		}
		if len(parts) > 0 && end != len(s) {
			t.Fatalf("Parts(%q): %v end at %d of %d", s, parts, end, len(s))
		}
	})
}

func BenchmarkParts(b *testing.B) {
	m := testMorphology(b)
	words := []string{"ワークロードドメイン", "ストレージコントローラー", "ヴイエムウェアドメイン", "メールアドレス"}
	var out [][2]int
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		out = m.Parts(words[i%len(words)], out[:0])
	}
}
