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
