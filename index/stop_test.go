package index

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"vplanet"
)

// TestStopWords checks that a quoted phrase keeps its stop words, that a
// query of stop words alone says it has no searchable word, and that a
// filter beside them finds every post the filter allows.
func TestStopWords(t *testing.T) {
	en := func(id, text string) *vplanet.Post {
		p := post(id, id, text)
		p.Lang = "en"
		return p
	}
	ix := openTest(t,
		en("phrase", "This feature is referred to as a stretched cluster."),
		en("referred", "The customer was referred by a partner to the team."),
		en("other", "Nothing in common with the others."),
		post("ja", "日本語", "の記事です。"),
	)
	for _, tc := range []struct {
		name, q string
		want    []string // sorted
		err     string   // part of the error, if any
	}{
		{"quoted phrase keeps its stop words", `"referred to as a"`, []string{"phrase"}, ""},
		{"unquoted words drop them", "referred to as a", []string{"phrase", "referred"}, ""},
		{"stop words alone", "the", nil, "no searchable word"},
		{"particle alone", "の", nil, "no searchable word"},
		{"stop words and a negation", "the -old", nil, "no searchable word"},
		{"stop word and a filter", "the lang:en", []string{"other", "phrase", "referred"}, ""},
		{"quoted stop word", `"the"`, []string{"other", "referred"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tc.q, Limit: 10})
			if tc.err != "" {
				if err == nil || !errors.Is(err, vplanet.ErrBadQuery) || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("%s: got error %v, want one saying %q", tc.q, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s: %v", tc.q, err)
			}
			got := hitIDs(res)
			slices.Sort(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}
