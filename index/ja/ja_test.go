package ja

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"
)

// corpusDir is the shared corpus, when a checkout has it beside it.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// morphology is the Morphology the tests share: loading the dictionary
// takes longer than most of them.
var morphology = sync.OnceValues(New)

func testMorphology(t testing.TB) *Morphology {
	t.Helper()
	m, err := morphology()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// kagome is kagome's own tokenizer, which a Morphology must agree with.
var kagome = sync.OnceValues(func() (*tokenizer.Tokenizer, error) {
	return tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
})

// segmentDiff describes how m's answer for s differs from kagome's search
// mode, or returns "".
func segmentDiff(m *Morphology, s string) string {
	t, err := kagome()
	if err != nil {
		return err.Error()
	}
	got, want := m.Segment(s, nil), t.Analyze(s, tokenizer.Search)
	if len(got) != len(want) {
		return fmt.Sprintf("morphology gives %d morphemes, kagome %d", len(got), len(want))
	}
	for i, w := range want {
		pos, _ := w.FeatureAt(0)
		base := ""
		if inflectedPOS(pos) {
			base, _ = w.BaseForm()
		}
		mo := Morpheme{Offset: w.Position, Surface: w.Surface, Skip: skippedPOS(pos), Base: base}
		if got[i] != mo {
			return fmt.Sprintf("morpheme %d: morphology gives %+v, kagome %+v", i, got[i], mo)
		}
	}
	return ""
}

// readTestdata returns the Japanese texts of testdata: a novel's opening,
// its sentences that search mode splits, and the project's sample.
func readTestdata(t testing.TB) []string {
	t.Helper()
	var texts []string
	for _, p := range []string{
		filepath.Join("testdata", "bocchan-ja.txt"),
		filepath.Join("testdata", "bocchan-search-ja.txt"),
		filepath.Join("..", "testdata", "sample-ja.txt"),
	} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		texts = append(texts, string(b))
	}
	return texts
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// readCorpus returns the Japanese of the shared corpus (the whole novel,
// the Japanese blog posts without their tags), or skips t when the
// corpus is not there.
func readCorpus(t testing.TB) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(corpusDir, "aozora", "bocchan.txt"))
	if err != nil {
		t.Skipf("shared corpus not found (%v): the testdata case covers the check", err)
	}
	texts := []string{string(b)}
	root := filepath.Join(corpusDir, "hatenablog", "content", "ja")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		texts = append(texts, tagRE.ReplaceAllString(string(b), " "))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return texts
}

// TestMorphologyMatchesKagome checks the Morphology against kagome's search
// mode, line by line, on the Japanese of testdata and, when the shared
// corpus is beside the checkout, on the whole novel and its blog posts.
func TestMorphologyMatchesKagome(t *testing.T) {
	t.Run("testdata", func(t *testing.T) { checkMorphology(t, readTestdata(t)) })
	t.Run("corpus", func(t *testing.T) { checkMorphology(t, readCorpus(t)) })
}

// TestWordsMatchKagome checks Words against kagome's normal mode, line by
// line, on the Japanese of testdata and, when the shared corpus is beside
// the checkout, on the whole novel and its blog posts.
func TestWordsMatchKagome(t *testing.T) {
	for name, texts := range map[string]func(testing.TB) []string{"testdata": readTestdata, "corpus": readCorpus} {
		t.Run(name, func(t *testing.T) {
			m := testMorphology(t)
			k, err := kagome()
			if err != nil {
				t.Fatal(err)
			}
			lines := 0
			for _, text := range texts(t) {
				for line := range strings.Lines(text) {
					if line = strings.TrimSpace(line); line == "" {
						continue
					}
					lines++
					var got []string
					for _, w := range m.Words(line, nil) {
						got = append(got, line[w[0]:w[1]])
					}
					if want := surfaces(k.Analyze(line, tokenizer.Normal)); fmt.Sprint(got) != fmt.Sprint(want) {
						t.Errorf("%q: got %v, want %v", line, got, want)
					}
				}
			}
			if lines == 0 {
				t.Fatal("no lines")
			}
		})
	}
}

// checkMorphology compares the Morphology with kagome on every line of
// texts, and requires search mode's penalties to have changed some of
// kagome's answers, for the check to cover them.
func checkMorphology(t *testing.T, texts []string) {
	m := testMorphology(t)
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
			if diff := segmentDiff(m, line); diff != "" {
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

func TestSegment(t *testing.T) {
	m := testMorphology(t)
	for _, tc := range []struct{ name, in, want string }{
		{"compound split by search mode", "関西国際空港", "関西 国際 空港"},
		{"no word across a boundary", "東京都", "東京 都"},
		{"verb by base form, particle and auxiliary skipped", "移行しました", "移行 する(し) -まし -た"},
		{"unknown katakana grouped", "ヴィエムウェア", "ヴィエムウェア"},
		{"empty", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var parts []string
			for _, mo := range m.Segment(tc.in, nil) {
				switch {
				case mo.Skip:
					parts = append(parts, "-"+mo.Surface)
				case mo.Base != "" && mo.Base != mo.Surface:
					parts = append(parts, mo.Base+"("+mo.Surface+")")
				default:
					parts = append(parts, mo.Surface)
				}
			}
			if got := strings.Join(parts, " "); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

// FuzzSegment checks the Morphology against kagome, and Fold's shortcut
// against the normalizer, on any text.
func FuzzSegment(f *testing.F) {
	for _, s := range []string{"ＶＣＨＡの構成", "ｶﾞｲﾄﾞ", "拡張クラスタ", "a\xffb\u3099", "㍻ ① ーーー"} {
		f.Add(s)
	}
	m := testMorphology(f)
	f.Fuzz(func(t *testing.T, text string) {
		if diff := segmentDiff(m, text); diff != "" {
			t.Fatalf("%q: %s", text, diff)
		}
		if got, want := nfkcText(text), norm.NFKC.IsNormalString(text); got != want {
			t.Fatalf("%q: nfkcText says %v, the normalizer %v", text, got, want)
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

// BenchmarkSegment compares the morphology with kagome's own tokenizer in
// search mode, which give the same morphemes, on the lines of the Japanese
// benchmark text: the whole novel when the shared corpus is there, else
// its opening in testdata.
func BenchmarkSegment(b *testing.B) {
	m := testMorphology(b)
	k, err := kagome()
	if err != nil {
		b.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(corpusDir, "aozora", "bocchan.txt"))
	if err != nil {
		raw, err = os.ReadFile(filepath.Join("testdata", "bocchan-ja.txt"))
	}
	if err != nil {
		b.Fatal(err)
	}
	text := string(raw)
	var lines []string
	for line := range strings.Lines(text) {
		lines = append(lines, strings.TrimSpace(line))
	}
	for _, bc := range []struct {
		name    string
		segment func(string)
	}{
		{"morphology", func(s string) { m.Segment(s, nil) }},
		{"kagome-search-mode", func(s string) { k.Analyze(s, tokenizer.Search) }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				for _, line := range lines {
					bc.segment(line)
				}
			}
		})
	}
}
