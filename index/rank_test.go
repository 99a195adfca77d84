package index

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"vplanet"
)

// rankPosts are the server's page fixture: a Japanese post that spells
// VCHA out in its body only, twelve English posts with VCHA in their title
// and body, and a hostile one with a longer title.
func rankPosts() []*vplanet.Post {
	ja := post("ja-4", "VMworld 2017 Europe #4",
		"vCenter HA（VCHA）の構成について説明します。VCHA はアクティブとパッシブの二つのノードで動きます。")
	ja.Published = time.Date(2017, 9, 14, 9, 0, 0, 0, time.UTC)
	evil := post("en-evil", `<script>alert("title")</script> VCHA & friends`,
		`<script>alert("text")</script> VCHA explained by a hostile feed`)
	evil.Published, evil.Lang = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC), "en"
	posts := []*vplanet.Post{ja, evil}
	for i := range 12 {
		p := post(fmt.Sprintf("part-%02d", i+1), fmt.Sprintf("VCHA notes, part %d", i+1),
			"More notes on VCHA failover and witness nodes.")
		p.Published, p.Lang = time.Date(2019, 3, 1+i, 0, 0, 0, 0, time.UTC), "en"
		posts = append(posts, p)
	}
	return posts
}

// TestRanking checks the relevance rule: a title hit outranks a body
// hit, however many spellings of a glossary term the body uses, and among
// equal scores newer comes first, across pages too.
func TestRanking(t *testing.T) {
	ix := openTest(t, rankPosts()...)
	parts := func() []string {
		var s []string
		for i := 12; i >= 1; i-- {
			s = append(s, fmt.Sprintf("part-%02d", i))
		}
		return s
	}()
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"VCHA", append(slices.Clone(parts), "en-evil", "ja-4")},
		{"vcha", append(slices.Clone(parts), "en-evil", "ja-4")},
		{"vCenter HA", append(slices.Clone(parts), "en-evil", "ja-4")},
		{"notes", parts},
	} {
		t.Run(tc.query, func(t *testing.T) {
			// With facets, the first page sorts every hit by date and the
			// next ones reuse its facets and order a window of hits.
			for _, facets := range []bool{false, true} {
				for _, limit := range []int{100, 10, 5, 3} {
					var got []string
					for off := 0; off < len(tc.want)+limit; off += limit {
						got = append(got, ids(t, ix, Request{Query: tc.query, Limit: limit, Offset: off, Facets: facets})...)
					}
					if !slices.Equal(got, tc.want) {
						t.Errorf("pages of %d, facets %t: got %v, want %v", limit, facets, got, tc.want)
					}
				}
			}
		})
	}
}
