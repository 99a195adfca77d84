package index

import (
	"context"
	"io/fs"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"vplanet"
)

// katakanaRuns returns the runs of katakana (long-vowel marks included) in
// text, at least minChars characters long.
func katakanaRuns(text string, minChars int) []string {
	var runs []string
	start, n := -1, 0
	flush := func(end int) {
		if start >= 0 && n >= minChars {
			runs = append(runs, text[start:end])
		}
		start, n = -1, 0
	}
	for i, r := range text {
		if r == 'ー' || unicode.Is(unicode.Katakana, r) && r != '・' {
			if start < 0 {
				start = i
			}
			n++
			continue
		}
		flush(i)
	}
	flush(len(text))
	return runs
}

// compoundCase is a part of a katakana compound and the post that holds
// the compound.
type compoundCase struct {
	compound, part, post string
}

// compoundCases finds, in posts, the katakana runs of six characters or
// more that are made of two runs written alone elsewhere in the posts
// (ストレージコントローラー where ストレージ and コントローラー are written
// alone): each part is a case. The parts come from how authors write, not
// from the dictionary the analyzer splits with, so that the measure does
// not grade the analyzer by its own rule.
func compoundCases(posts []*vplanet.Post) []compoundCase {
	alone := map[string]bool{}
	for _, p := range posts {
		for _, r := range katakanaRuns(p.Title+"\n"+p.Text, 2) {
			alone[r] = true
		}
	}
	seen := map[string]bool{}
	var cases []compoundCase
	for _, p := range posts {
		for _, run := range katakanaRuns(p.Title+"\n"+p.Text, 6) {
			for i := range run {
				if i == 0 || utf8.RuneCountInString(run[:i]) < 2 || utf8.RuneCountInString(run[i:]) < 2 {
					continue
				}
				if strings.HasPrefix(run[i:], "ー") || !alone[run[:i]] || !alone[run[i:]] {
					continue
				}
				for _, part := range []string{run[:i], run[i:]} {
					if k := part + "\x00" + p.ID; !seen[k] {
						seen[k] = true
						cases = append(cases, compoundCase{run, part, p.ID})
					}
				}
				break
			}
		}
	}
	sort.Slice(cases, func(i, j int) bool {
		a, b := cases[i], cases[j]
		return a.compound+a.part+a.post < b.compound+b.part+b.post
	})
	return cases
}

// matches reports whether the search for q matches the post id at all.
func matches(t testing.TB, ix *Index, q, id string) bool {
	t.Helper()
	for off := 0; ; off += 100 {
		res, err := ix.Search(context.Background(), Request{Query: q, Limit: 100, Offset: off})
		if err != nil {
			t.Fatalf("search %q: %v", q, err)
		}
		if slices.ContainsFunc(res.Hits, func(h Hit) bool { return h.ID == id }) {
			return true
		}
		if len(res.Hits) < 100 || off > 2000 {
			return false
		}
	}
}

// TestCompoundPartsCorpus measures how often a part of a katakana compound
// of the shared corpus finds the post that holds the compound.
func TestCompoundPartsCorpus(t *testing.T) {
	posts := hatenaPosts(t)
	if testing.Short() {
		t.Skip("indexes the whole corpus")
	}
	var ja []*vplanet.Post
	for _, p := range posts {
		if p.Lang == "ja" {
			ja = append(ja, p)
		}
	}
	cases := compoundCases(ja)
	dir := filepath.Join(t.TempDir(), "index")
	ix, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	if err := ix.Apply(context.Background(), ja); err != nil {
		t.Fatal(err)
	}
	an := analyzer(t)
	terms, size := 0, int64(0)
	for _, p := range ja {
		terms += len(an.Analyze(p.Title)) + len(an.Analyze(p.Text))
	}
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	t.Logf("%d terms analysed, index %d KiB", terms, size/1024)
	found, split := 0, map[string]bool{}
	compounds := map[string]bool{}
	for _, c := range cases {
		compounds[c.compound] = true
		if len(an.Analyze(c.compound)) > 1 {
			split[c.compound] = true
		}
		if matches(t, ix, c.part, c.post) {
			found++
		} else {
			t.Logf("%s: %s does not find %s", c.compound, c.part, c.post)
		}
	}
	rate := float64(found) / float64(len(cases))
	t.Logf("%d posts, %d compounds (%d indexed as more than one term), %d parts: %d find their post (%.1f%%)",
		len(ja), len(compounds), len(split), len(cases), found, 100*rate)
	if len(cases) < 50 {
		t.Fatalf("found %d cases, want ≥ 50: is the corpus complete?", len(cases))
	}
	if rate < 0.95 {
		t.Errorf("parts that find their post: got %.3f, want ≥ 0.95", rate)
	}
}

// TestCompoundParts searches posts written for this test for the parts of
// the katakana compounds they hold, alone, excluded and in phrases.
func TestCompoundParts(t *testing.T) {
	ix := openTest(t,
		post("lb", "ロードバランサーの設定", "ロードバランサーを構成してから東京都のサーバーへ振り分ける。"),
		post("mail", "通知", "メールアドレスを登録する。"),
		post("balancer", "負荷", "バランサを単体で使う。京都のサーバ。"),
	)
	for _, tc := range []struct {
		name, q string
		want    []string
	}{
		{"prefix part", "ロード", []string{"lb"}},
		{"suffix part", "バランサー", []string{"balancer", "lb"}},
		{"whole", "ロードバランサ", []string{"lb"}},
		{"whole long vowel", "ロードバランサー", []string{"lb"}},
		{"part of a known compound", "アドレス", []string{"mail"}},
		{"excluded part", "サーバ -バランサ", nil},
		{"phrase over the whole", `"ロードバランサーを構成"`, []string{"lb"}},
		{"unspaced run", "ロードバランサーを構成", []string{"lb"}},
		{"phrase across parts, wrong order", `"バランサ ロード"`, nil},
		{"kyoto is not tokyo-to", "京都", []string{"balancer"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(t, ix, Request{Query: tc.q, Limit: 10})
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

// TestKatakanaVariants checks that a katakana word finds the posts that
// spell it with or without its last long-vowel mark, or in half-width, where
// the dictionary cuts one spelling into words (クラスター into クラ and
// スター, ポリシ into ポリ and シ) and not the other.
func TestKatakanaVariants(t *testing.T) {
	ix := openTest(t,
		post("cluster", "構成", "拡張クラスタの改善が発表された。"),
		post("policy", "設定", "ストレージポリシーを変更した。"),
		post("star", "記録", "スターを付けた。"),
	)
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"クラスター", []string{"cluster"}},
		{"クラスタ", []string{"cluster"}},
		{"ｸﾗｽﾀｰ", []string{"cluster"}},
		{"ポリシ", []string{"policy"}},
		{"ストレージポリシ", []string{"policy"}},
		{"スター", []string{"star"}},
	} {
		t.Run(tc.q, func(t *testing.T) {
			if got := ids(t, ix, Request{Query: tc.q, Limit: 10}); !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}
