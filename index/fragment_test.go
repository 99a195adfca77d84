package index

import (
	"context"
	"slices"
	"testing"
	"unicode/utf8"

	"vplanet"
)

// fragmentCase is a piece of a post's Japanese text pasted as a query.
type fragmentCase struct {
	q, post string
	cut     bool // starts and ends inside a word
}

// fragments takes from each post two pieces of twelve characters of one
// run of Japanese, from its middle on: one that starts and ends where the
// analyzer's words do, one that starts and ends inside words, as people
// paste a piece of a sentence.
func fragments(an *textAnalyzer, posts []*vplanet.Post) []fragmentCase {
	const chars = 12
	var cases []fragmentCase
	for _, p := range posts {
		toks := an.Analyze(p.Text)
		starts, ends := map[int]bool{}, map[int]bool{}
		for _, t := range toks {
			starts[t.Start], ends[t.End] = true, true
		}
		var have [2]bool
		text := p.Text
		for i := len(text) / 2; i < len(text) && !(have[0] && have[1]); {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !utf8.RuneStart(text[i]) || classify(r) != classJapanese {
				i += max(n, 1)
				continue
			}
			j, k := i, 0
			for ; j < len(text) && k < chars; k++ {
				r, n := utf8.DecodeRuneInString(text[j:])
				if classify(r) != classJapanese {
					break
				}
				j += n
			}
			if k == chars {
				aligned := starts[i] && ends[j]
				cut := !starts[i] && !ends[j]
				switch {
				case aligned && !have[0]:
					cases = append(cases, fragmentCase{text[i:j], p.ID, false})
					have[0] = true
				case cut && !have[1]:
					cases = append(cases, fragmentCase{text[i:j], p.ID, true})
					have[1] = true
				}
			}
			i += n
		}
	}
	return cases
}

// TestFragmentsCorpus measures how often a piece of a post's Japanese text
// pasted as a query finds the post in the top 10.
func TestFragmentsCorpus(t *testing.T) {
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
	ix := openTest(t, ja...)
	cases := fragments(analyzer(t), ja)
	var n, found [2]int
	for _, c := range cases {
		k := 0
		if c.cut {
			k = 1
		}
		n[k]++
		res, err := ix.Search(context.Background(), Request{Query: c.q, Limit: 10})
		if err != nil {
			t.Errorf("%s: %v", c.q, err)
			continue
		}
		if slices.ContainsFunc(res.Hits, func(h Hit) bool { return h.ID == c.post }) {
			found[k]++
		} else if c.cut {
			t.Logf("%s not in the top 10 for %s", c.post, c.q)
		}
	}
	t.Logf("word-aligned pieces: %d of %d find their post (%.1f%%); pieces cut inside words: %d of %d (%.1f%%)",
		found[0], n[0], 100*float64(found[0])/float64(n[0]), found[1], n[1], 100*float64(found[1])/float64(n[1]))
	if n[0] < 50 || n[1] < 50 {
		t.Fatalf("found %d and %d pieces, want ≥ 50 of each: is the corpus complete?", n[0], n[1])
	}
	// Measured on the Hatena corpus: 94.4% and 20.9% when a piece's cut
	// edge words were required, 95.4% and 73.1% with them left out when
	// nothing matches exactly.
	if got := float64(found[0]) / float64(n[0]); got < 0.93 {
		t.Errorf("word-aligned pieces found: got %.3f, want ≥ 0.93", got)
	}
	if got := float64(found[1]) / float64(n[1]); got < 0.65 {
		t.Errorf("pieces cut inside words found: got %.3f, want ≥ 0.65", got)
	}
}

// TestFragments searches posts written for this test for pieces of their
// text that start or end inside a word.
func TestFragments(t *testing.T) {
	ix := openTest(t,
		post("policy", "ポリシー", "仮想マシンのストレージポリシーの設定を変更します。"),
		post("kyoto", "京都", "京都の会場でストレージの設定を確認した。"),
		post("tokyo", "東京都", "東京都の会場で設定を確認した。"),
	)
	for _, tc := range []struct {
		name, q string
		want    []string // sorted
		partial bool
	}{
		{"cut at both ends", "トレージポリシーの設定を変", []string{"policy"}, true},
		{"cut at the start", "シンのストレージポリシー", []string{"policy"}, true},
		{"edge words left out where no post has every pair", "ーブルのストレージの設定を確", []string{"kyoto"}, true},
		{"cut inside a kanji word and a katakana one", "想マシンのストレ", []string{"policy"}, true},
		{"two words cut, every pair in one post", "トレージポリシーの設", []string{"policy"}, true},
		{"cut at both ends, longer", "シンのストレージポリシーの設定を変", []string{"policy"}, true},
		{"word-aligned", "ストレージポリシーの設定", []string{"policy"}, false},
		{"exact results are not widened", "京都", []string{"kyoto"}, false},
		{"a quoted piece is exact", `"トレージポリシーの設定を変"`, nil, false},
		{"too short to widen", "シンの設定", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tc.q, Limit: 10})
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			got := hitIDs(res)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) || res.Partial != tc.partial {
				t.Errorf("%s: got %v partial %v, want %v partial %v", tc.q, got, res.Partial, tc.want, tc.partial)
			}
		})
	}
}
