package index

import (
	"fmt"
	"math"
	"testing"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

// TestDisjunctionCoord pins how Bleve scores a disjunction: the sum of the
// scores of the parts that match, times the share of the parts that do.
// The search's early stop relies on it (builder.build adds 0.5 a
// alternative to the bound that no post without a title match reaches):
// if Bleve scores disjunctions another way, this fails, and the bound must
// be worked out again before ranking can be trusted.
func TestDisjunctionCoord(t *testing.T) {
	ix := openTest(t,
		post("one", "title", "alpha gamma"),
		post("both", "title", "alpha beta"),
	)
	term := func(s string) query.Query {
		q := bleve.NewTermQuery(s)
		q.SetField("text")
		return q
	}
	req := bleve.NewSearchRequest(bleve.NewDisjunctionQuery(term("alpha"), term("beta")))
	req.Explain = true
	res, err := ix.bi.Search(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Total != 2 {
		t.Fatalf("total %d, want 2", res.Total)
	}
	for _, h := range res.Hits {
		matched := map[string]int{"one": 1, "both": 2}[h.ID]
		e := h.Expl
		if e.Message != "product of:" || len(e.Children) != 2 {
			t.Fatalf("%s: explanation %q with %d parts, want the product of a sum and a coord", h.ID, e.Message, len(e.Children))
		}
		sum, coord := e.Children[0], e.Children[1]
		share := float64(matched) / 2
		if want := fmt.Sprintf("coord(%d/2)", matched); coord.Message != want || coord.Value != share {
			t.Errorf("%s: coord %q = %v, want %s = %v", h.ID, coord.Message, coord.Value, want, share)
		}
		if sum.Message != "sum of:" || len(sum.Children) != matched {
			t.Errorf("%s: %q of %d parts, want the sum of the %d that matched", h.ID, sum.Message, len(sum.Children), matched)
		}
		if math.Abs(h.Score-sum.Value*share) > 1e-12 {
			t.Errorf("%s: score %v, want %v × the sum %v", h.ID, h.Score, share, sum.Value)
		}
	}
}
