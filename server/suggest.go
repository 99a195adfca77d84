package server

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"vplanet"
	"vplanet/index"
)

// maxSuggestions is how many suggestions /suggest offers; browsers show
// about ten.
const maxSuggestions = 10

// handleSuggest answers GET /suggest?q= with OpenSearch suggestions
// (application/x-suggestions+json: ["q", ["suggestion", …]]), for the
// search box as one types and for the browser's search bar: glossary
// terms and blog names that start with what was typed, then the titles of
// the posts the words typed so far find.
func (s *server) handleSuggest() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := strings.TrimSpace(r.URL.Query().Get("q"))
		out := []string{}
		seen := map[string]bool{}
		add := func(t string) {
			k := foldName(t)
			if t == "" || seen[k] || len(out) >= maxSuggestions {
				return
			}
			seen[k] = true
			out = append(out, t)
		}
		if q != "" && checkQuery(q) == nil {
			want := foldName(q)
			var terms []string
			for _, group := range s.cfg.Glossary {
				for _, t := range group {
					if strings.HasPrefix(foldName(t), want) {
						terms = append(terms, t)
					}
				}
			}
			blogs, _, err := s.blogs.get(r.Context(), s.st)
			if err == nil {
				for _, f := range blogs {
					if f.Status != vplanet.StatusRemoved && strings.HasPrefix(foldName(f.DisplayName()), want) {
						terms = append(terms, f.DisplayName())
					}
				}
			}
			slices.Sort(terms)
			for _, t := range terms[:min(len(terms), maxSuggestions/2)] {
				add(t)
			}
			// A word still being typed finds nothing yet; the error of a
			// query that cannot be read is the results page's to show.
			if _, hits, err := s.search(r.Context(), index.Request{Query: q, Limit: maxSuggestions}, false); err == nil {
				for _, h := range hits {
					add(h.post.Title)
				}
			}
		}
		w.Header().Set("Content-Type", "application/x-suggestions+json")
		w.Header().Set("Cache-Control", "no-cache")
		json.NewEncoder(w).Encode([]any{q, out})
	})
}
