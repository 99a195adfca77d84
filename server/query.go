package server

import (
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"vplanet"
)

// term is one item of a query as the search page sees it: enough of the
// index's query language to find, rewrite and remove filters, and to say
// why a query would silently match nothing.
type term struct {
	start, end int // bytes of the query it spans
	neg        bool
	field      string // "blog", "lang", "after", "before"; "" for text
	value      string // without the field and the quotes
	quoted     bool
	closed     bool // a quote that was opened was closed
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

// scanTerms splits q as the index does: spaces separate terms, quotes make
// one term across spaces, a leading - excludes. Unlike the index it also
// reads field:"a quoted value", which the search page turns into what the
// index understands (a blog's name into its identifier).
func scanTerms(q string) []term {
	var out []term
	for i := 0; i < len(q); {
		r, n := utf8.DecodeRuneInString(q[i:])
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			i += n
			continue
		}
		t := term{start: i, closed: true}
		if r == '-' && i+1 < len(q) {
			next, _ := utf8.DecodeRuneInString(q[i+1:])
			if !unicode.IsSpace(next) && next != '-' {
				t.neg = true
				i++
			}
		}
		// A field name, if the run starts with one.
		j := i
		for j < len(q) && (q[j] >= 'a' && q[j] <= 'z' || q[j] >= 'A' && q[j] <= 'Z') {
			j++
		}
		if j < len(q) && q[j] == ':' {
			switch f := strings.ToLower(q[i:j]); f {
			case "blog", "lang", "after", "before":
				t.field = f
				i = j + 1
			}
		}
		if r, n := utf8.DecodeRuneInString(q[i:]); i < len(q) && isQuote(r) {
			i += n
			end := strings.IndexFunc(q[i:], isQuote)
			t.quoted = true
			if end < 0 {
				t.value, t.closed, i = q[i:], false, len(q)
			} else {
				t.value = q[i : i+end]
				_, m := utf8.DecodeRuneInString(q[i+end:])
				i += end + m
			}
		} else {
			end := strings.IndexFunc(q[i:], func(r rune) bool {
				return unicode.IsSpace(r) || unicode.IsControl(r) || isQuote(r)
			})
			if end < 0 {
				end = len(q) - i
			}
			t.value = q[i : i+end]
			i += end
		}
		t.end = i
		out = append(out, t)
	}
	return out
}

// wordsPerToken is how many of a query's words or filters one token of
// the search rate limit pays for.
const wordsPerToken = 4

// queryCost is what a search takes from its client's budget: one for
// every four words or filters, at least one. Exclusions cost as much as
// words: each is a scan of the index. A query of 63 exclusions thus costs
// sixteen plain searches.
func queryCost(q string) float64 {
	n := len(scanTerms(q))
	return float64(max(1, (n+wordsPerToken-1)/wordsPerToken))
}

// lintQuery refuses what the index would read as matching nothing without
// saying why.
func lintQuery(q string) error {
	for _, t := range scanTerms(q) {
		switch {
		case t.quoted && !t.closed:
			return &requestError{status: http.StatusBadRequest, err: vplanet.ErrBadQuery, key: "err_unclosed_quote",
				msg: `a quote is not closed: end the phrase with " or remove the quote`}
		case !t.neg && !t.quoted && t.field == "" && strings.Trim(t.value, "-") == "":
			return &requestError{status: http.StatusBadRequest, err: vplanet.ErrBadQuery, key: "err_lone_minus",
				msg: `a lone - excludes nothing: write it against the word to exclude, as in -vSphere`}
		case t.field != "" && t.value == "":
			return &requestError{status: http.StatusBadRequest, err: vplanet.ErrBadQuery, key: "err_wants_value",
				args: []any{t.field}, msg: fmt.Sprintf("%s: wants a value", t.field)}
		}
	}
	return nil
}

// blogsNamed returns the slugs of the listed blogs that name matches: by
// identifier, else by name (case and width folded), else those whose name
// contains it.
func blogsNamed(name string, blogs map[string]*vplanet.Feed) []string {
	if f := blogs[name]; f != nil {
		return []string{name}
	}
	want := foldName(name)
	var exact, partial []string
	for slug, f := range blogs {
		if f.Status == vplanet.StatusRemoved {
			continue
		}
		switch n := foldName(f.DisplayName()); {
		case n == want || foldName(slug) == want:
			exact = append(exact, slug)
		case want != "" && strings.Contains(n, want):
			partial = append(partial, slug)
		}
	}
	if len(exact) == 0 {
		exact = partial
	}
	slices.Sort(exact)
	return exact
}

func foldName(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// resolveBlogs rewrites each blog: filter that names a blog rather than
// identifying it into the identifiers it names (several blog: filters mean
// any of them). It returns the rewritten query and the values that name
// no blog.
func resolveBlogs(q string, blogs map[string]*vplanet.Feed) (string, []string) {
	var b strings.Builder
	var unknown []string
	last := 0
	for _, t := range scanTerms(q) {
		if t.field != "blog" || blogs[t.value] != nil {
			continue
		}
		slugs := blogsNamed(t.value, blogs)
		if len(slugs) == 0 {
			unknown = append(unknown, t.value)
			continue
		}
		b.WriteString(q[last:t.start])
		for i, slug := range slugs {
			if i > 0 {
				b.WriteByte(' ')
			}
			if t.neg {
				b.WriteByte('-')
			}
			b.WriteString("blog:" + slug)
		}
		last = t.end
	}
	b.WriteString(q[last:])
	return b.String(), unknown
}

// replaceBlogs replaces the blog: filters whose values are in names with
// one for slug.
func replaceBlogs(q string, names []string, slug string) string {
	var b strings.Builder
	last, done := 0, false
	for _, t := range scanTerms(q) {
		if t.field != "blog" || !slices.Contains(names, t.value) {
			continue
		}
		b.WriteString(q[last:t.start])
		if !done {
			b.WriteString("blog:" + slug)
			done = true
		}
		last = t.end
	}
	b.WriteString(q[last:])
	return strings.Join(strings.Fields(b.String()), " ")
}

// similarBlogs offers, for blog: values that name no blog, the blogs
// whose names share a word with them, at most five.
func similarBlogs(names []string, blogs map[string]*vplanet.Feed, link func(slug string) string) []facetItem {
	var out []facetItem
	for slug, f := range blogs {
		if f.Status == vplanet.StatusRemoved {
			continue
		}
		name := foldName(f.DisplayName() + " " + slug)
	words:
		for _, n := range names {
			for _, w := range strings.FieldsFunc(foldName(n), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
				if utf8.RuneCountInString(w) >= 2 && strings.Contains(name, w) {
					out = append(out, facetItem{Label: f.DisplayName(), URL: link(slug)})
					break words
				}
			}
		}
	}
	slices.SortFunc(out, func(a, b facetItem) int { return strings.Compare(a.Label, b.Label) })
	return out[:min(len(out), 5)]
}

// removeTerm returns q without the filters that select the facet value
// (for a year, the after: and before: pair), so that a chosen facet can be
// taken back.
func removeTerm(q, facet, value string, blogs map[string]*vplanet.Feed) string {
	var b strings.Builder
	last := 0
	for _, t := range scanTerms(q) {
		if t.neg {
			continue
		}
		drop := false
		switch facet {
		case "blog":
			drop = t.field == "blog" && slices.Contains(blogsNamed(t.value, blogs), value)
		case "lang":
			drop = t.field == "lang" && strings.EqualFold(t.value, value)
		case "year":
			drop = t.field == "after" && t.value == value+"-01-01" || t.field == "before" && t.value == value+"-12-31"
		}
		if drop {
			b.WriteString(q[last:t.start])
			last = t.end
		}
	}
	b.WriteString(q[last:])
	return strings.Join(strings.Fields(b.String()), " ")
}

// indexErrors translate the index's words about a bad query, which are
// English, into message keys; the groups are the message's arguments.
var indexErrors = []struct {
	re  *regexp.Regexp
	key string
}{
	{regexp.MustCompile(`^query has more than (\d+) words$`), "err_too_many_words"},
	{regexp.MustCompile(`^query has (\d+) terms; at most (\d+) are allowed$`), "err_too_many_terms"},
	{regexp.MustCompile(`^(after|before): wants a date like 2017-09-01, not "(.*)"$`), "err_bad_date"},
	{regexp.MustCompile(`^(\w+): wants a value$`), "err_wants_value"},
	{regexp.MustCompile(`^(\w+): cannot be joined with OR$`), "err_no_or"},
	{regexp.MustCompile(`^query is too long \((\d+) bytes; at most (\d+)\)$`), "err_too_long"},
	{regexp.MustCompile(`^empty query$`), "err_empty"},
	{regexp.MustCompile(`^query is not valid UTF-8$`), "err_utf8"},
}
