package index

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"
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
		{"関西国際空港", "関西[0:6]@1 国際[6:12]@2 空港[12:18]@3"},
		{"東京都", "東京[0:6]@1 都[6:9]@2"},
		{"移行しました", "移行[0:6]@1 する[6:9]@2"},
		{"サーバーとコピー", "サーバ[0:12]@1 コピー[15:24]@3"},
		{"vSphere7.0U3", "vsphere7.0u3[0:12]@1 vsphere[0:7]@1 7.0[7:10]@2 u[10:11]@3 3[11:12]@4"},
		{"vSAN 6.6の新機能", "vsan[0:4]@1 6.6[5:8]@2 新[11:14]@4 機能[14:20]@5"},
		{"NSX-T", "nsx-t[0:5]@1 nsx[0:3]@1 t[4:5]@2"},
		{"migrating the migration.", "migrat[0:9]@1 migrat[14:23]@3"},
		{"VMware's vSphere™", "vmware[0:6]@1 vsphere[9:16]@2"},
		{"の", ""},
		{"「拡張クラスタ」", "拡張[3:9]@1 クラスタ[9:21]@2"},
		{"ＮＳＸ－Ｔ", "nsx-t[0:15]@1 nsx[0:9]@1 t[12:15]@2"},
		{"a\xffb", "b[2:3]@2"},
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
		if diff := segmentDiff(a, text); diff != "" {
			t.Fatalf("%q: %s", text, diff)
		}
		if got, want := nfkcText(text), norm.NFKC.IsNormalString(text); got != want {
			t.Fatalf("%q: nfkcText says %v, the normalizer %v", text, got, want)
		}
	})
}

// kagome is kagome's own tokenizer, which a morphology must agree with.
var kagome = sync.OnceValues(func() (*tokenizer.Tokenizer, error) {
	return tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
})

// segmentDiff describes how the morphology's answer for s differs from
// kagome's search mode, or returns "".
func segmentDiff(a *textAnalyzer, s string) string {
	t, err := kagome()
	if err != nil {
		return err.Error()
	}
	got, want := a.ja.segment(s, nil), t.Analyze(s, tokenizer.Search)
	if len(got) != len(want) {
		return fmt.Sprintf("morphology gives %d morphemes, kagome %d", len(got), len(want))
	}
	for i, w := range want {
		pos, _ := w.FeatureAt(0)
		base := ""
		if inflectedPOS(pos) {
			base, _ = w.BaseForm()
		}
		m := morpheme{offset: w.Position, surface: w.Surface, skip: skippedPOS(pos), base: base}
		if got[i] != m {
			return fmt.Sprintf("morpheme %d: morphology gives %+v, kagome %+v", i, got[i], m)
		}
	}
	return ""
}

// TestMorphologyMatchesKagome checks the morphology against kagome's search
// mode, line by line, on the Japanese of testdata (a novel's opening, its
// sentences that search mode splits, the project's sample) and, when the shared corpus is beside the
// checkout, on the whole novel and its blog posts.
func TestMorphologyMatchesKagome(t *testing.T) {
	t.Run("testdata", func(t *testing.T) {
		var texts []string
		for _, name := range []string{"bocchan-ja.txt", "bocchan-search-ja.txt", "sample-ja.txt"} {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			texts = append(texts, string(b))
		}
		checkMorphology(t, texts)
	})
	t.Run("corpus", func(t *testing.T) {
		b, err := os.ReadFile(filepath.Join(corpusDir, "aozora", "bocchan.txt"))
		if err != nil {
			t.Skipf("shared corpus not found (%v): the testdata case covers the check", err)
		}
		texts := []string{string(b)}
		for _, p := range hatenaPosts(t) {
			if p.Lang == "ja" {
				texts = append(texts, p.Title, p.Text)
			}
		}
		checkMorphology(t, texts)
	})
}

// checkMorphology compares the morphology with kagome on every line of
// texts, and requires search mode's penalties to have changed some of
// kagome's answers, for the check to cover them.
func checkMorphology(t *testing.T, texts []string) {
	a := analyzer(t)
	k, err := kagome()
	if err != nil {
		t.Fatal(err)
	}
	lines, penalized := 0, 0
	for _, text := range texts {
		for line := range strings.Lines(text) {
			if line = strings.TrimSpace(line); line == "" {
				continue
			}
			if diff := segmentDiff(a, line); diff != "" {
				t.Errorf("%q: %s", line, diff)
			}
			lines++
			if fmt.Sprint(k.Wakati(line)) != fmt.Sprint(surfaces(k.Analyze(line, tokenizer.Search))) {
				penalized++
			}
		}
	}
	if penalized == 0 {
		t.Errorf("search mode split no long morpheme in %d lines", lines)
	}
	t.Logf("%d lines, %d of them split apart by search mode's penalties", lines, penalized)
}

func surfaces(toks []tokenizer.Token) []string {
	s := make([]string, len(toks))
	for i, t := range toks {
		s[i] = t.Surface
	}
	return s
}

// TestAnalyzeBounded guards against inputs that make kagome's lattice slow.
func TestAnalyzeBounded(t *testing.T) {
	a := analyzer(t)
	for _, s := range []string{"ア", "ー", "𠀋", "あ", "亜", "\u3099", "ｱ", "a-", "ａ"} {
		text := strings.Repeat(s, 20000/len(s))
		start := time.Now()
		a.Analyze(text)
		if d := time.Since(start); d > time.Second {
			t.Errorf("%q × %d: took %v", s, 20000/len(s), d)
		}
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

// TestNFKCInert checks every rune nfkcInert vouches for.
func TestNFKCInert(t *testing.T) {
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if nfkcInert(r) {
			n++
			if s := string(r); !norm.NFKC.IsNormalString(s) {
				t.Errorf("%U %s: nfkcInert, but NFKC makes it %q", r, s, norm.NFKC.String(s))
			}
		}
	}
	if n < 20000 {
		t.Errorf("nfkcInert vouches for %d runes; want the kana and the CJK block", n)
	}
	for _, tc := range []struct {
		name, text string
	}{
		{"ascii", "VMware vSphere 7.0"},
		{"japanese", "拡張クラスタを構成した。「重複排除」々"},
		{"full-width", "ＶＣＨＡ"},
		{"combining mark after kana", "か\u3099"},
		{"combining mark after ascii", "e\u0301"},
		{"ideographic space", "a\u3000b"},
		{"invalid utf-8", "a\xffb"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got, want := nfkcText(tc.text), norm.NFKC.IsNormalString(tc.text); got != want {
				t.Errorf("nfkcText(%q) = %v, the normalizer says %v", tc.text, got, want)
			}
		})
	}
}
