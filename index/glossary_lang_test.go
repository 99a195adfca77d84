package index_test

// These tests reach the glossary only through what every caller of index
// sees (Open, Apply, Search), so that they hold whatever shape the
// package's insides take.

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vplanet"
	"vplanet/index"
)

// glossGroups reads glossary.txt with a parser of its own: each group is
// its spellings as written, and line is where it stands.
type glossGroup struct {
	line      int
	spellings []string
}

func glossGroups(t testing.TB) []glossGroup {
	t.Helper()
	f, err := os.Open("glossary.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var groups []glossGroup
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		g := glossGroup{line: n}
		for alt := range strings.SplitSeq(s, "|") {
			g.spellings = append(g.spellings, strings.TrimSpace(alt))
		}
		groups = append(groups, g)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return groups
}

// glossIndex opens a fresh index in a temporary directory and applies
// posts to it, numbering their Seq in order.
func glossIndex(t testing.TB, posts []*vplanet.Post) *index.Index {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	for i, p := range posts {
		p.Seq, p.Visible = int64(i+1), true
	}
	if err := ix.Apply(context.Background(), posts); err != nil {
		t.Fatal(err)
	}
	return ix
}

// glossSearch returns every hit of q (up to 100).
func glossSearch(t testing.TB, ix *index.Index, q string) *index.Result {
	t.Helper()
	res, err := ix.Search(context.Background(), index.Request{Query: q, Limit: 100, Facets: true})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return res
}

// TestGlossaryParses opens an index, which reads the built-in glossary, and
// checks each line with a parser of its own: two or more spellings, none
// empty, none written twice in the file (case and spaces aside).
func TestGlossaryParses(t *testing.T) {
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{})
	if err != nil {
		t.Fatalf("the built-in glossary does not load: %v", err)
	}
	ix.Close()
	seen := map[string]int{}
	for _, g := range glossGroups(t) {
		if len(g.spellings) < 2 {
			t.Errorf("glossary.txt:%d: %d spelling, want two or more", g.line, len(g.spellings))
		}
		for _, s := range g.spellings {
			if s == "" {
				t.Errorf("glossary.txt:%d: an empty spelling", g.line)
				continue
			}
			k := strings.ToLower(strings.Join(strings.Fields(s), " "))
			if line, ok := seen[k]; ok {
				t.Errorf("glossary.txt:%d: %q is also on line %d", g.line, s, line)
			}
			seen[k] = g.line
		}
	}
}

// TestGlossaryUnambiguous indexes every spelling of the glossary as a post
// of its own, then asks for each spelling. A spelling must find the posts
// of all the spellings of its group (the query is read through the
// glossary, and an analysis that drops a spelling, or reads it otherwise in
// a query than in a post, shows here). Two groups whose queries each find
// all the other's posts have been joined: a spelling analyses alike in
// both (a case, width, stem or long-vowel variant, or a word that differs
// only by a stop word), and the loader merges such groups silently.
func TestGlossaryUnambiguous(t *testing.T) {
	groups := glossGroups(t)
	var posts []*vplanet.Post
	owner := map[string]int{} // post ID → group
	for gi, g := range groups {
		for si, s := range g.spellings {
			id := fmt.Sprintf("%d/%d", g.line, si)
			lang := "en"
			if japanese(s) {
				lang = "ja"
			}
			posts = append(posts, &vplanet.Post{ID: id, Lang: lang, Text: s})
			owner[id] = gi
		}
	}
	ix := glossIndex(t, posts)
	found := make([]map[string]bool, len(groups)) // by the group's first spelling
	for gi, g := range groups {
		for si, s := range g.spellings {
			hits := map[string]bool{}
			for offset := 0; ; offset += 100 {
				res, err := ix.Search(context.Background(), index.Request{Query: s, Limit: 100, Offset: offset})
				if err != nil {
					t.Fatalf("glossary.txt:%d: search %q: %v", g.line, s, err)
				}
				for _, h := range res.Hits {
					hits[h.ID] = true
				}
				if uint64(offset+100) >= res.Total {
					break
				}
			}
			for sj, other := range g.spellings {
				if !hits[fmt.Sprintf("%d/%d", g.line, sj)] {
					t.Errorf("glossary.txt:%d: %q does not find a post that says %q", g.line, s, other)
				}
			}
			if si == 0 {
				found[gi] = hits
			}
		}
	}
	all := func(hits map[string]bool, g glossGroup) bool {
		for si := range g.spellings {
			if !hits[fmt.Sprintf("%d/%d", g.line, si)] {
				return false
			}
		}
		return true
	}
	for i := range groups {
		for j := i + 1; j < len(groups); j++ {
			if all(found[i], groups[j]) && all(found[j], groups[i]) {
				t.Errorf("glossary.txt:%d and :%d are one group to search (%q, %q): a spelling analyses alike in both",
					groups[i].line, groups[j].line, groups[i].spellings[0], groups[j].spellings[0])
			}
		}
	}
}
