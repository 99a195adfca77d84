package index

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"
	"unicode"

	"vplanet"
)

// kanjiRuns returns the runs of kanji in text.
func kanjiRuns(text string) []string {
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.Is(unicode.Han, r) })
}

// standalone reports whether text holds the kanji word w as a whole run of
// kanji, not inside a longer one (本木 of 本木さん, not of 六本木).
func standalone(text, w string) bool {
	for _, r := range kanjiRuns(text) {
		if r == w {
			return true
		}
	}
	return false
}

// TestPartOfWordCorpus measures, for two-kanji words that the corpus writes
// both alone and inside longer kanji words, the share of top-10 hits that
// hold the word only inside longer words.
func TestPartOfWordCorpus(t *testing.T) {
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
	// alone and inside count the posts that write a word each way.
	alone, inside := map[string]int{}, map[string]int{}
	for _, p := range ja {
		seenA, seenI := map[string]bool{}, map[string]bool{}
		for _, run := range kanjiRuns(p.Title + "\n" + p.Text) {
			rs := []rune(run)
			if len(rs) == 2 {
				seenA[run] = true
				continue
			}
			for i := 0; i+2 <= len(rs); i++ {
				seenI[string(rs[i:i+2])] = true
			}
		}
		for w := range seenA {
			alone[w]++
		}
		for w := range seenI {
			if !seenA[w] {
				inside[w]++
			}
		}
	}
	var words []string
	for w, n := range alone {
		if n >= 2 && inside[w] >= 2 {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	byID := map[string]*vplanet.Post{}
	for _, p := range ja {
		byID[p.ID] = p
	}
	ix := openTest(t, ja...)
	// A part-only hit in the top 10 is ahead of its turn when a post that
	// writes the word alone ranks below it.
	hits, partOnly, ahead := 0, 0, 0
	for _, w := range words {
		res, err := ix.Search(context.Background(), Request{Query: w, Limit: 100})
		if err != nil {
			t.Fatalf("%s: %v", w, err)
		}
		lastAlone := -1
		for i, h := range res.Hits {
			p := byID[h.ID]
			if standalone(p.Title+"\n"+p.Text, w) {
				lastAlone = i
			}
		}
		for i, h := range res.Hits[:min(10, len(res.Hits))] {
			hits++
			p := byID[h.ID]
			if !standalone(p.Title+"\n"+p.Text, w) {
				partOnly++
				if i < lastAlone {
					ahead++
				}
			}
		}
	}
	t.Logf("%d words, %d top-10 hits: %d hold the word only inside longer words (%.1f%%), %d of them ahead of a post that writes it alone (%.1f%%)",
		len(words), hits, partOnly, 100*float64(partOnly)/float64(max(hits, 1)), ahead, 100*float64(ahead)/float64(max(hits, 1)))
	if len(words) < 30 {
		t.Fatalf("found %d words, want ≥ 30: is the corpus complete?", len(words))
	}
}

// TestWholeWordFirst checks that a kanji word finds the posts that write it
// as a word, and those that hold it only inside longer words (本木 of
// 六本木) only when there are none, as a partial match.
func TestWholeWordFirst(t *testing.T) {
	roppongi := []*vplanet.Post{
		post("roppongi1", "記録", "六本木で開かれた勉強会の会場は六本木ヒルズ。六本木駅から歩く。"),
		post("roppongi2", "記録", "六本木の会場で六本木の話をした。"),
		post("hokkaido", "記録", "北海道のユーザー会に北海道から参加した。"),
	}
	all := openTest(t, append(slices.Clone(roppongi), post("motoki", "記録", "本木さんが登壇した。"))...)
	parts := openTest(t, roppongi...)
	for _, tc := range []struct {
		name    string
		ix      *Index
		q       string
		want    []string
		partial bool
	}{
		{"the word alone", all, "本木", []string{"motoki"}, false},
		{"inside longer words when it is nowhere alone", parts, "本木", []string{"roppongi1", "roppongi2"}, true},
		{"a dictionary word is not split", all, "北海", nil, false},
		{"the longer word finds both its posts", all, "六本木", []string{"roppongi1", "roppongi2"}, false},
		{"in a phrase, inside a longer word", all, "六本木の会場", []string{"roppongi2"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.ix.Search(context.Background(), Request{Query: tc.q, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(res)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) || res.Partial != tc.partial {
				t.Errorf("%s: got %v partial %v, want %v partial %v", tc.q, got, res.Partial, tc.want, tc.partial)
			}
		})
	}
}

// TestWider: a kanji word's exact matches come alone, the posts holding it
// inside longer words are counted (More), and a Wider search returns them
// after the exact ones, across pages, with facets counting both.
func TestWider(t *testing.T) {
	ix := openTest(t,
		post("roppongi1", "記録", "六本木で開かれた勉強会の会場は六本木ヒルズ。"),
		post("roppongi2", "記録", "六本木の会場で話をした。"),
		post("motoki", "記録", "本木さんが登壇した。"),
		post("other", "記録", "別の話。"),
	)
	ctx := context.Background()
	res, err := ix.Search(ctx, Request{Query: "本木", Facets: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := hitIDs(res); !slices.Equal(got, []string{"motoki"}) || res.Total != 1 || res.More != 2 || res.Widened || res.Partial {
		t.Errorf("本木: %v total %d more %d widened %v partial %v; want [motoki] 1, 2 more", got, res.Total, res.More, res.Widened, res.Partial)
	}
	for _, tc := range []struct {
		name          string
		offset, limit int
		want          []string // in rank order, the parts sorted
	}{
		{"whole page", 0, 10, []string{"motoki", "roppongi1", "roppongi2"}},
		{"the exact hit, then one part", 0, 2, []string{"motoki", "?"}},
		{"the exact hit fills the page", 0, 1, []string{"motoki"}},
		{"second page, parts only", 1, 10, []string{"roppongi1", "roppongi2"}},
		{"past the exact hits by one", 2, 10, []string{"?"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ix.Search(ctx, Request{Query: "本木", Wider: true, Offset: tc.offset, Limit: tc.limit, Facets: true})
			if err != nil {
				t.Fatal(err)
			}
			got := hitIDs(res)
			if len(got) != len(tc.want) || res.Total != 3 || !res.Widened || res.More != 0 {
				t.Fatalf("got %v total %d widened %v more %d; want %d hits of 3, widened", got, res.Total, res.Widened, res.More, len(tc.want))
			}
			for i, w := range tc.want {
				if w == "?" {
					if !strings.HasPrefix(got[i], "roppongi") {
						t.Errorf("hit %d = %s, want a 六本木 post", i, got[i])
					}
					continue
				}
				if i == 0 && tc.offset == 0 && got[0] != w {
					t.Errorf("first hit %s, want %s: the exact match first", got[0], w)
				}
			}
			if tc.offset == 1 {
				slices.Sort(got)
				if !slices.Equal(got, tc.want) {
					t.Errorf("got %v, want %v", got, tc.want)
				}
			}
			if n := res.Facets["lang"]; len(n) != 1 || n[0].Count != 3 {
				t.Errorf("lang facet %v, want 3 posts counted", n)
			}
		})
	}
	// A word found exactly nowhere falls back as before, and Wider
	// changes nothing there.
	for _, wider := range []bool{false, true} {
		res, err := ix.Search(ctx, Request{Query: "六本木ヒルズ 本木", Wider: wider})
		if err != nil {
			t.Fatal(err)
		}
		if got := hitIDs(res); !slices.Equal(got, []string{"roppongi1"}) || !res.Partial {
			t.Errorf("wider %v: got %v partial %v, want [roppongi1] partial", wider, got, res.Partial)
		}
	}
}
