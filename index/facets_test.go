package index

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestFacetResult checks the facet lists against sorting every value and
// cutting the list, on counts shaped like a common word's (hits in every
// blog, ties at the cut) and a rare word's.
func TestFacetResult(t *testing.T) {
	tests := []struct {
		name   string
		blogs  int // how many blogs the index knows
		hit    int // how many of them have hits
		counts func(r *rand.Rand, i int) int
		years  []int
	}{
		{name: "no hits", blogs: 5, hit: 0, counts: func(*rand.Rand, int) int { return 1 }},
		{name: "a few blogs", blogs: 8, hit: 3, counts: func(r *rand.Rand, _ int) int { return 1 + r.IntN(5) },
			years: []int{2016, 2019, 2016}},
		{name: "every blog, many ties", blogs: 1000, hit: 1000, counts: func(r *rand.Rand, _ int) int { return 1 + r.IntN(4) },
			years: []int{1899, 1900, 2155, 2156, 3000, 0, 2020}},
		{name: "rising counts", blogs: 300, hit: 300, counts: func(_ *rand.Rand, i int) int { return i + 1 },
			years: seq(1950, 2026)},
		{name: "falling counts", blogs: 300, hit: 300, counts: func(_ *rand.Rand, i int) int { return 1000 - i }},
		{name: "exactly the limit", blogs: maxFacetValues, hit: maxFacetValues, counts: func(*rand.Rand, int) int { return 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tt.blogs)))
			cols := &snapColumns{langs: []string{"", "ja", "en"}}
			f := &facetCounter{langs: make([]int, 3)}
			want := map[string][]FacetCount{"blog": {}, "lang": {}, "year": {}}
			for i := range tt.blogs {
				cols.blogs = append(cols.blogs, fmt.Sprintf("blog%04d", r.IntN(10000)))
				n := 0
				if i < tt.hit {
					n = tt.counts(r, i)
					want["blog"] = append(want["blog"], FacetCount{cols.blogs[i], n})
				}
				f.blogs = append(f.blogs, n)
			}
			// An empty value (a post without a blog) is never listed.
			cols.blogs = append(cols.blogs, "")
			f.blogs = append(f.blogs, 99)
			f.langs[0], f.langs[2] = 7, tt.hit
			if tt.hit > 0 {
				want["lang"] = []FacetCount{{"en", tt.hit}}
			}
			perYear := map[int]int{}
			for _, y := range tt.years {
				c := &segColumns{blog: []uint32{0}, lang: []uint8{1}, year: []uint16{uint16(y)}}
				f.add(c, 0)
				f.blogs[0]--
				f.langs[1]--
				perYear[y]++
			}
			for y, n := range perYear {
				if y != 0 {
					want["year"] = append(want["year"], FacetCount{strconv.Itoa(y), n})
				}
			}
			slices.SortFunc(want["blog"], func(a, b FacetCount) int {
				if a.Count != b.Count {
					return b.Count - a.Count
				}
				return cmp.Compare(a.Value, b.Value)
			})
			slices.SortFunc(want["year"], func(a, b FacetCount) int {
				x, _ := strconv.Atoi(a.Value)
				y, _ := strconv.Atoi(b.Value)
				return y - x
			})
			for name, w := range want {
				want[name] = w[:min(len(w), maxFacetValues)]
			}

			got := f.result(cols)
			for _, name := range []string{"blog", "lang", "year"} {
				if got[name] == nil {
					t.Errorf("%s: nil, want a list", name)
				}
				if !slices.Equal(got[name], want[name]) {
					t.Errorf("%s:\ngot  %v\nwant %v", name, got[name], want[name])
				}
			}
		})
	}
}

func seq(from, to int) []int {
	var out []int
	for y := from; y <= to; y++ {
		out = append(out, y)
	}
	return out
}
