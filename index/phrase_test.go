package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/upsidedown"
	"github.com/blevesearch/bleve/v2/index/upsidedown/store/boltdb"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"vplanet"
)

// TestPhraseMatchesBleve checks phraseQuery against Bleve's own
// MultiPhraseQuery on the same index: the same posts, the same scores and
// the same match locations, for phrases cut at random from the posts
// (Japanese and English, with unindexed words inside) and a few that
// occur nowhere.
func TestPhraseMatchesBleve(t *testing.T) {
	var posts []*vplanet.Post
	for _, name := range []string{"sample-ja.txt", "sample-en.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		for i, para := range strings.Split(string(b), "\n") {
			if strings.TrimSpace(para) != "" {
				posts = append(posts, post(fmt.Sprintf("%s-%d", name, i), para[:min(len(para), 60)], para))
			}
		}
	}
	if _, err := os.Stat(corpusDir); err == nil {
		posts = append(posts, hatenaPosts(t)...)
	} else {
		t.Logf("corpus not found at %s: testing with the samples in testdata alone", corpusDir)
	}
	ix := openTest(t, posts...)

	rng := rand.New(rand.NewPCG(1, 2))
	phrases := []string{"存在しない語句の並び", "no such words together", "京都の大学"}
	for len(phrases) < 200 {
		// The text from one analysed word of a post to one a few
		// positions later, unindexed words between included.
		p := posts[rng.IntN(len(posts))]
		toks := ix.an.Analyze(p.Text)
		if len(toks) < 6 {
			continue
		}
		i := rng.IntN(len(toks) - 5)
		j := i + 1 + rng.IntN(4)
		phrases = append(phrases, p.Text[toks[i].Start:toks[j].End])
	}
	tested := 0
	for _, ph := range phrases {
		pos, _ := positions(ix.an.Analyze(ph))
		if len(pos) < 2 {
			continue
		}
		terms := make([][]string, len(pos))
		for i, alts := range pos {
			terms[i] = alts
			if len(alts) == 0 {
				terms[i] = []string{""}
			}
		}
		for _, field := range []string{"text", "title"} {
			want := runPhrase(t, ix, query.NewMultiPhraseQuery(terms, field), true)
			got := runPhrase(t, ix, &phraseQuery{field: field, terms: terms}, true)
			if !slices.Equal(got, want) {
				t.Errorf("%q in %s (%v):\ngot  %v\nwant %v", ph, field, terms, got, want)
			}
			// Without locations, from the posts found per segment.
			want = runPhrase(t, ix, query.NewMultiPhraseQuery(terms, field), false)
			got = runPhrase(t, ix, &phraseQuery{field: field, terms: terms, cache: ix.cols}, false)
			if !slices.Equal(got, want) {
				t.Errorf("%q in %s (%v), from bitmaps:\ngot  %v\nwant %v", ph, field, terms, got, want)
			}
			if field == "text" && len(want) > 0 {
				tested++
			}
		}
	}
	if tested < 100 {
		t.Errorf("only %d phrases were found in the posts; the test needs more to mean something", tested)
	}
}

// runPhrase returns the hits of q as strings: ID, score and, when asked
// for, locations.
func runPhrase(t *testing.T, ix *Index, q query.Query, locations bool) []string {
	t.Helper()
	req := bleve.NewSearchRequestOptions(q, 10000, 0, false)
	req.IncludeLocations = locations
	req.SortBy([]string{"_id"})
	sr, err := ix.bi.SearchInContext(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, h := range sr.Hits {
		var locs []string
		for field, tl := range h.Locations {
			if !locations {
				break // Bleve's phrases give them anyway
			}
			for term, ls := range tl {
				for _, l := range ls {
					locs = append(locs, fmt.Sprintf("%s:%s@%d[%d,%d]", field, term, l.Pos, l.Start, l.End))
				}
			}
		}
		slices.Sort(locs)
		locs = slices.Compact(locs)
		out = append(out, fmt.Sprintf("%s %.9f %v", h.ID, round(h.Score), locs))
	}
	return out
}

func round(f float64) float64 { return math.Round(f*1e9) / 1e9 }

var _ search.Searcher = (*phraseSearcher)(nil)

// TestPhraseOnOtherIndexes checks that a phrase asked with its bitmap
// cache set still checks positions on an index that is not a scorch
// snapshot, where no segment bitmaps exist.
func TestPhraseOnOtherIndexes(t *testing.T) {
	bi, err := bleve.NewUsing(filepath.Join(t.TempDir(), "ud"), newMapping(), upsidedown.Name, boltdb.Name, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bi.Close()
	for id, text := range map[string]string{"hit": "the monitoring rules apply", "miss": "rules for monitoring"} {
		if err := bi.Index(id, newDocument(post(id, "t", text))); err != nil {
			t.Fatal(err)
		}
	}
	q := &phraseQuery{field: "text", terms: [][]string{{"monitor"}, {"rule"}}, cache: newSegmentCache()}
	sr, err := bi.Search(bleve.NewSearchRequest(q))
	if err != nil {
		t.Fatal(err)
	}
	if len(sr.Hits) != 1 || sr.Hits[0].ID != "hit" {
		t.Errorf("hits %v, want only the post with the phrase", sr.Hits)
	}
}
