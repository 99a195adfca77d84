package index

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	bdocument "github.com/blevesearch/bleve/v2/document"
	bindex "github.com/blevesearch/bleve_index_api"

	"vplanet"
)

// fieldDump renders what Bleve indexes of a document's fields, one line a
// field, sorted: name, array positions, options, value, token count, and
// each term with its frequency and locations in order.
func fieldDump(doc *bdocument.Document) []string {
	var out []string
	doc.VisitFields(func(f bindex.Field) {
		f.Analyze()
		var b strings.Builder
		fmt.Fprintf(&b, "%s %v %v %q n=%d", f.Name(), f.ArrayPositions(), f.Options(), f.Value(), f.AnalyzedLength())
		freqs := f.AnalyzedTokenFrequencies()
		terms := make([]string, 0, len(freqs))
		for term := range freqs {
			terms = append(terms, term)
		}
		slices.Sort(terms)
		for _, term := range terms {
			tf := freqs[term]
			fmt.Fprintf(&b, " %s/%s×%d", term, tf.Term, tf.Frequency())
			for _, l := range tf.Locations {
				fmt.Fprintf(&b, "[%d:%d]@%d%v%q", l.Start, l.End, l.Position, l.ArrayPositions, l.Field)
			}
		}
		out = append(out, b.String())
	})
	slices.Sort(out)
	return out
}

// TestPostDocumentMatchesMapping checks that newPostDocument gives Bleve
// the fields, terms, frequencies and locations that Bleve's mapping makes
// of the same post.
func TestPostDocumentMatchesMapping(t *testing.T) {
	an := analyzer(t)
	m := newMapping()
	posts := []*vplanet.Post{
		post("ja", "ＶＣＨＡの構成", "vCenter HAを構成した。拡張クラスタと重複排除、vSAN6.6の新機能。構成、構成、構成。"),
		post("en", "Migrating NSX-T", "migrating the migration: NSX-T 3.2 to vSphere7.0U3, VMware's way."),
		post("empty", "", ""),
		{ID: "no-blog-no-lang", Title: "t", Text: "x", Visible: true},
		{ID: "other", Title: "t", Text: "x", Lang: "en", BlogSlug: "b-2", Published: time.Date(1999, 12, 31, 23, 59, 59, 5, time.FixedZone("x", 3600)), Visible: true},
	}
	for _, name := range []string{"sample-ja.txt", "sample-en.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		posts = append(posts, post(name, name, string(b)))
	}
	if _, err := os.Stat(corpusDir); err == nil {
		hp := hatenaPosts(t)
		posts = append(posts, hp[:min(len(hp), 60)]...)
	} else {
		t.Logf("corpus not found at %s: testdata only", corpusDir)
	}
	for _, p := range posts {
		want := bdocument.NewDocument(p.ID)
		if err := m.MapDocument(want, newDocument(p)); err != nil {
			t.Fatal(err)
		}
		got := newPostDocument(an, p)
		if g, w := fieldDump(got), fieldDump(want); !slices.Equal(g, w) {
			t.Errorf("post %s: fields differ\ngot  %s\nwant %s", p.ID, strings.Join(g, "\n     "), strings.Join(w, "\n     "))
		}
		if got.HasComposite() {
			t.Errorf("post %s: has a composite field", p.ID)
		}
		if g, w := got.NumPlainTextBytes(), want.NumPlainTextBytes(); g != w {
			t.Errorf("post %s: %d plain text bytes, want %d", p.ID, g, w)
		}
	}
}
