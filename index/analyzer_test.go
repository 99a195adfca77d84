package index

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"
	"vplanet/index/ja"
)

func analyzer(t testing.TB) *textAnalyzer {
	t.Helper()
	a, err := sharedAnalyzer()
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// dump renders tokens as term[start:end]@position.
func dump(toks []token) string {
	var b strings.Builder
	for i, t := range toks {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%s[%d:%d]@%d", t.Term, t.Start, t.End, t.Position)
	}
	return b.String()
}

func TestAnalyze(t *testing.T) {
	a := analyzer(t)
	for _, tc := range []struct{ in, want string }{
		{"ＶＣＨＡ", "vcha[0:12]@1"},
		{"VCHA vcha", "vcha[0:4]@1 vcha[5:9]@2"},
		{"ｶﾞｲﾄﾞ", "ガイド[0:15]@1"},
		{"関西国際空港", "~関西[0:6]@1 ~国際[6:12]@2 ~空港[12:18]@3"},
		{"東京都", "東京[0:6]@1 都[6:9]@2"},
		{"移行しました", "移行[0:6]@1 する[6:9]@2"},
		{"六本木の本木さん", "~六[0:3]@1 ~本木[3:9]@2 本木[12:18]@4 さん[18:24]@5"},
		{"サーバーとコピー", "サーバ[0:12]@1 コピー[15:24]@3"},
		{"vSphere7.0U3", "vsphere7.0u3[0:12]@1 vsphere[0:7]@1 7.0[7:10]@2 u[10:11]@3 3[11:12]@4"},
		{"vSAN 6.6の新機能", "vsan[0:4]@1 6.6[5:8]@2 新[11:14]@4 機能[14:20]@5"},
		{"NSX-T", "nsx-t[0:5]@1 nsx[0:3]@1 t[4:5]@2"},
		{"migrating the migration.", "migrat[0:9]@1 the[10:13]@2 migrat[14:23]@3"},
		{"VMware's vSphere™", "vmware[0:6]@1 vsphere[9:16]@2"},
		{"の", ""},
		{"「拡張クラスタ」", "拡張[3:9]@1 クラスタ[9:21]@2"},
		{"ＮＳＸ－Ｔ", "nsx-t[0:15]@1 nsx[0:9]@1 t[12:15]@2"},
		{"a\xffb", "a[0:1]@1 b[2:3]@2"},
		{"ロードバランサーの設定", "ロードバランサ[0:24]@1 ロード[0:9]@1 バランサ[9:24]@2 設定[27:33]@4"},
		{"ロードバランサ", "ロードバランサ[0:21]@1 ロード[0:9]@1 バランサ[9:21]@2"},
		{"メールアドレス", "メールアドレス[0:21]@1 メール[0:9]@1 アドレス[9:21]@2"},
		{"ストレージコントローラー", "ストレージコントローラ[0:36]@1 ストレージ[0:15]@1 コントローラ[15:36]@2 コント[15:24]@2 ローラ[24:36]@3"},
		{"レイテンシー", "レイテンシ[0:18]@1"},
	} {
		t.Run(tc.in, func(t *testing.T) {
			if got := dump(a.Analyze(tc.in)); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func FuzzAnalyze(f *testing.F) {
	for _, s := range []string{"ＶＣＨＡの構成", "ｶﾞｲﾄﾞ", "vSphere7.0U3", "a\xffb\u3099", "NSX-T/V ™ ㍻ ①"} {
		f.Add(s)
	}
	a := analyzer(f)
	f.Fuzz(func(t *testing.T, text string) {
		// Rune boundaries as a decoder sees them: an invalid byte is one.
		bound := map[int]bool{len(text): true}
		for i := range text {
			bound[i] = true
		}
		last := 0
		for _, tok := range a.Analyze(text) {
			if tok.Start < 0 || tok.End > len(text) || tok.Start >= tok.End {
				t.Fatalf("%q: token %+v out of range", text, tok)
			}
			if !bound[tok.Start] || !bound[tok.End] {
				t.Fatalf("%q: token %+v not on rune boundaries", text, tok)
			}
			if tok.Position < 1 || tok.Position < last {
				t.Fatalf("%q: token %+v position goes back from %d", text, tok, last)
			}
			if tok.Term == "" || !utf8.ValidString(tok.Term) {
				t.Fatalf("%q: token %+v: bad term", text, tok)
			}
			last = tok.Position
		}
	})
}

// TestAnalyzeBounded checks the bounds that keep kagome's lattice from
// growing with the square of the input: the morphology is given runs of
// at most maxJapaneseRun bytes (and the rune that crosses it), with at most maxGroupedRun characters in a
// row that the dictionary groups into one unknown word. How long such
// inputs take is BenchmarkAnalyzePathological's to measure.
func TestAnalyzeBounded(t *testing.T) {
	for _, s := range pathological {
		text := ja.Fold(strings.Repeat(s, 20000/len(s))).Text
		if classify([]rune(text)[0]) != classJapanese {
			continue
		}
		runs := 0
		for i := 0; i < len(text); runs++ {
			if r, size := utf8.DecodeRuneInString(text[i:]); classify(r) != classJapanese {
				i += size
				continue
			}
			j := japaneseEnd(text, i)
			if j <= i {
				t.Fatalf("%q: no progress at %d", s, i)
			}
			if j-i > maxJapaneseRun+utf8.UTFMax {
				t.Errorf("%q: a run of %d bytes", s, j-i)
			}
			if n := utf8.RuneCountInString(text[i:j]); n > maxGroupedRun && !strings.ContainsAny(text[i:j], "あ亜") {
				t.Errorf("%q: a run of %d grouped characters", s, n)
			}
			i = j
		}
		if min := len(text) / maxJapaneseRun; runs < min {
			t.Errorf("%q: %d runs, want at least %d", s, runs, min)
		}
	}
}

// pathological are characters whose long runs make a lattice costly.
var pathological = []string{"ア", "ー", "𠀋", "あ", "亜", "\u3099", "ｱ", "a-", "ａ"}

func BenchmarkAnalyzePathological(b *testing.B) {
	a := analyzer(b)
	for _, s := range pathological {
		text := strings.Repeat(s, 20000/len(s))
		b.Run(s, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				a.Analyze(text)
			}
		})
	}
}

func TestStemCache(t *testing.T) {
	words := []string{"migrating", "migration", "clusters", "running", "vsphere", "nsx-t", "go", "upgraded"}
	t.Run("same answers as the stemmer, from many goroutines", func(t *testing.T) {
		c := &stemCache{}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				for i := range 2000 {
					w := words[(g+i)%len(words)]
					if got, want := c.stem(w), stemEnglish(w); got != want {
						t.Errorf("stem(%q) = %q, want %q", w, got, want)
						return
					}
				}
			})
		}
		wg.Wait()
		m := c.published.Load()
		if m == nil {
			t.Fatal("words asked for thousands of times were never published")
		}
		for _, w := range words {
			if (*m)[w] != stemEnglish(w) {
				t.Errorf("published %q → %q, want %q", w, (*m)[w], stemEnglish(w))
			}
		}
	})
	t.Run("bounded", func(t *testing.T) {
		c := &stemCache{}
		for i := range maxStems + 1000 {
			w := fmt.Sprintf("word%dings", i)
			if got, want := c.stem(w), stemEnglish(w); got != want {
				t.Fatalf("stem(%q) = %q, want %q", w, got, want)
			}
		}
		if n := len(*c.published.Load()); n != maxStems || !c.full.Load() {
			t.Errorf("cache holds %d words (full %v), want %d and full", n, c.full.Load(), maxStems)
		}
		if got := c.stem("clusters"); got != stemEnglish("clusters") {
			t.Errorf("stem of a new word in a full cache = %q", got)
		}
	})
}
