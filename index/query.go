package index

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"

	"vplanet"
	"vplanet/index/ja"
)

// Limits that keep every query's cost bounded.
const (
	maxQueryBytes = 2000
	maxQueryWords = 64
	maxQueryTerms = 64
)

// clause is one item of a query: a word (a run without spaces), a quoted
// phrase, or a filter.
type clause struct {
	Text   string
	Quoted bool
	Neg    bool
	Field  string // "blog", "lang", "after", "before"; "" for text

	group []spelling // the glossary group of a run of words (Field "gloss")
}

// parsed is a query as read: a conjunction of disjunctions ("a OR b c" is
// [[a b] [c]]).
type parsed [][]clause

// parseQuery reads the query language: spaces AND words, a run without
// spaces is a phrase of its tokens, "quotes" make a phrase across spaces
// (an unbalanced quote runs to the end), -word excludes, OR joins its
// neighbours, and blog:, lang:, after: and before: filter; any other word:
// is text.
func parseQuery(q string) (parsed, error) {
	if !utf8.ValidString(q) {
		return nil, fmt.Errorf("query is not valid UTF-8: %w", vplanet.ErrBadQuery)
	}
	if len(q) > maxQueryBytes {
		return nil, fmt.Errorf("query is too long (%d bytes; at most %d): %w", len(q), maxQueryBytes, vplanet.ErrBadQuery)
	}
	type item struct {
		c  clause
		or bool
	}
	var items []item
	for i := 0; i < len(q); {
		r, n := utf8.DecodeRuneInString(q[i:])
		if unicode.IsSpace(r) || unicode.IsControl(r) {
			i += n
			continue
		}
		var c clause
		if r == '-' && i+1 < len(q) {
			next, _ := utf8.DecodeRuneInString(q[i+1:])
			if !unicode.IsSpace(next) && next != '-' {
				c.Neg = true
				i++
				r, n = utf8.DecodeRuneInString(q[i:])
			}
		}
		if isQuote(r) {
			i += n
			end := strings.IndexFunc(q[i:], isQuote)
			if end < 0 {
				end = len(q) - i
			}
			c.Text, c.Quoted = q[i:i+end], true
			i += end
			if i < len(q) {
				_, n := utf8.DecodeRuneInString(q[i:])
				i += n
			}
		} else {
			end := strings.IndexFunc(q[i:], func(r rune) bool {
				return unicode.IsSpace(r) || unicode.IsControl(r) || isQuote(r)
			})
			if end < 0 {
				end = len(q) - i
			}
			c.Text = q[i : i+end]
			i += end
			if c.Text == "OR" && !c.Neg {
				items = append(items, item{or: true})
				continue
			}
			c = filter(c)
		}
		if strings.TrimSpace(c.Text) == "" {
			continue
		}
		items = append(items, item{c: c})
		if len(items) > 2*maxQueryWords {
			break
		}
	}

	var p parsed
	words := 0
	for i := 0; i < len(items); i++ {
		it := items[i]
		if it.or {
			// An OR joins the clauses on either side; at either end, or
			// beside a negation, it is the word "or", which is not indexed.
			continue
		}
		words++
		if words > maxQueryWords {
			return nil, fmt.Errorf("query has more than %d words: %w", maxQueryWords, vplanet.ErrBadQuery)
		}
		prevOr := i >= 2 && items[i-1].or && !items[i-2].or && len(p) > 0
		if prevOr && !it.c.Neg && !p[len(p)-1][0].Neg {
			p[len(p)-1] = append(p[len(p)-1], it.c)
			continue
		}
		p = append(p, []clause{it.c})
	}
	return p, nil
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

// filter turns a word of the form key:value into a filter clause when key
// is one of the known fields; anything else stays text, so a pasted title
// ("VMware: the …") always works.
func filter(c clause) clause {
	k, v, ok := strings.Cut(c.Text, ":")
	if !ok || v == "" {
		return c
	}
	switch k = strings.ToLower(k); k {
	case "blog", "lang", "after", "before":
		c.Field, c.Text = k, v
	}
	return c
}

// builder turns a parsed query into a Bleve query.
type builder struct {
	an    *textAnalyzer
	gloss *glossary
	loc   *time.Location
	cache *segmentCache // for phrases; may be nil
	terms int
	// after and before bound the posts' dates, [after, before), when not
	// zero: build leaves them to the search, which filters by its date
	// column instead of by the index's date terms.
	after, before time.Time
	// titles are the title halves of the positive words' queries, and
	// bound is more than the score of any post that matches none of them
	// (see plan.titles).
	titles   []query.Query
	bound    float64
	inTitles bool // positionsQuery adds to titles
	// lenient leaves out the edge words of pieces of Japanese text (see
	// trimEdges) and lets a kanji word alone match inside longer words
	// (see spread); widens says that the query has such a piece or word.
	lenient, widens bool
	// grams, when lenient, also requires a widened piece's pairs of
	// characters (see gramQuery); gramsUsed says that a piece did.
	grams, gramsUsed bool
}

// build returns the Bleve query; nil means the query can match nothing
// (its only words are not indexed, like "の"). It sets b.after and
// b.before.
func (b *builder) build(p parsed) (query.Query, error) {
	var must, mustNot []query.Query
	byField := map[string][]query.Query{}
	var after, before time.Time
	text, textEmpty := 0, 0

	p = b.expand(p)
	for _, group := range p {
		isDate := len(group) == 1 && (group[0].Field == "after" || group[0].Field == "before")
		if len(group) == 1 && group[0].Field != "" && group[0].Field != "gloss" && (!group[0].Neg || isDate) {
			c := group[0]
			switch c.Field {
			case "after", "before":
				day, err := b.day(c)
				if err != nil {
					return nil, err
				}
				// after is the first day in, before the first day out;
				// -after:D is before D, -before:D after D.
				lo, hi := time.Time{}, time.Time{}
				switch {
				case c.Field == "after" && !c.Neg:
					lo = day
				case c.Field == "after":
					hi = day
				case !c.Neg:
					hi = day.AddDate(0, 0, 1)
				default:
					lo = day.AddDate(0, 0, 1)
				}
				if !lo.IsZero() && (after.IsZero() || lo.After(after)) {
					after = lo
				}
				if !hi.IsZero() && (before.IsZero() || hi.Before(before)) {
					before = hi
				}
			default:
				q, err := b.clause(c)
				if err != nil {
					return nil, err
				}
				byField[c.Field] = append(byField[c.Field], q)
			}
			continue
		}
		var alts []query.Query
		isText := false
		b.inTitles = !group[0].Neg
		for _, c := range group {
			isText = isText || c.Field == "" || c.Field == "gloss"
			q, err := b.clause(c)
			if err != nil {
				return nil, err
			}
			if q != nil {
				alts = append(alts, q)
			}
		}
		// Positive words that are all unindexed ("の") match nothing.
		if isText && !group[0].Neg {
			text++
			if len(alts) == 0 {
				textEmpty++
			}
		}
		b.inTitles = false
		if len(alts) == 0 {
			continue
		}
		if isText && !group[0].Neg {
			// A word's query scores a post without a title match below
			// 0.5 (see positionsQuery); a disjunction of n alternatives
			// scores the sum of those that match, times the share that
			// do, so below 0.5 n.
			b.bound += 0.5 * float64(len(alts))
		}
		q := alts[0]
		if len(alts) > 1 {
			q = bleve.NewDisjunctionQuery(alts...)
		}
		if group[0].Neg {
			mustNot = append(mustNot, &filterQuery{q}) // only whether it matches counts
		} else {
			must = append(must, q)
		}
	}
	if b.terms > maxQueryTerms {
		return nil, fmt.Errorf("query has %d terms; at most %d are allowed: %w", b.terms, maxQueryTerms, vplanet.ErrBadQuery)
	}
	// Repeated blog: or lang: filters mean any of them.
	for _, f := range []string{"blog", "lang"} {
		switch qs := byField[f]; len(qs) {
		case 0:
		case 1:
			must = append(must, qs[0])
		default:
			must = append(must, bleve.NewDisjunctionQuery(qs...))
		}
	}
	dated := !after.IsZero() || !before.IsZero()
	if dated {
		if !after.IsZero() && !before.IsZero() && !after.Before(before) {
			return nil, nil
		}
		b.after, b.before = after, before
	}
	if len(must) == 0 {
		if text > 0 && textEmpty == text && !dated {
			return nil, fmt.Errorf("no searchable word: words such as \"the\" or \"の\" are searched only in a quoted phrase, or add a filter such as lang:en: %w", vplanet.ErrBadQuery)
		}
		if len(mustNot) == 0 && !dated {
			return nil, fmt.Errorf("empty query: %w", vplanet.ErrBadQuery)
		}
		must = append(must, bleve.NewMatchAllQuery())
	}
	if len(must) == 1 && len(mustNot) == 0 {
		return must[0], nil // a conjunction of one is a layer more per hit
	}
	bq := bleve.NewBooleanQuery()
	bq.AddMust(must...)
	if len(mustNot) > 0 {
		bq.AddMustNot(mustNot...)
	}
	return bq, nil
}

// day reads the date of an after: or before: filter as the start of that
// calendar day in b.loc. A year or a month stands for its first day
// (after:) or its last (before:).
func (b *builder) day(c clause) (time.Time, error) {
	for _, layout := range []string{"2006-01-02", "2006-01", "2006"} {
		t, err := time.ParseInLocation(layout, c.Text, b.loc)
		if err != nil {
			continue
		}
		if c.Field == "before" {
			switch layout {
			case "2006-01":
				t = t.AddDate(0, 1, -1)
			case "2006":
				t = t.AddDate(1, 0, -1)
			}
		}
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%s: wants a date like 2017-09-01, not %q: %w", c.Field, c.Text, vplanet.ErrBadQuery)
}

// clause returns the query for one clause; nil when its words are not
// indexed.
func (b *builder) clause(c clause) (query.Query, error) {
	switch c.Field {
	case "blog", "lang":
		// lang:ja|en and blog:a,b mean either.
		var alts []query.Query
		for _, v := range strings.FieldsFunc(c.Text, func(r rune) bool { return r == '|' || r == ',' }) {
			if c.Field == "lang" {
				v = strings.ToLower(v)
			}
			q := bleve.NewTermQuery(v)
			q.SetField(c.Field)
			alts = append(alts, q)
		}
		switch len(alts) {
		case 0:
			return nil, fmt.Errorf("%s: wants a value: %w", c.Field, vplanet.ErrBadQuery)
		case 1:
			return &filterQuery{alts[0]}, nil
		}
		return &filterQuery{bleve.NewDisjunctionQuery(alts...)}, nil
	case "after", "before":
		// A date joined with OR would need a union of ranges; refuse.
		return nil, fmt.Errorf("%s: cannot be joined with OR: %w", c.Field, vplanet.ErrBadQuery)
	case "gloss":
		var alts []query.Query
		for _, sp := range c.group {
			b.terms += sp.terms
			alts = append(alts, b.positionsQuery(sp.positions))
		}
		return newDisMax(alts...), nil
	}
	// A quoted phrase keeps its stop words ("referred to as a"); other
	// words leave them out, as gaps.
	toks := b.an.Analyze(c.Text)
	if !c.Quoted {
		toks = searchable(toks)
	}
	var gram query.Query
	if !c.Quoted && c.Field == "" {
		// A piece of three words or more is widened by leaving out its
		// edge words; one of two, whose edges leave nothing, only where
		// its pairs of characters are enough to pick posts out.
		cut, cutTwo := trimEdges(toks, 3), trimEdges(toks, 2)
		var gq query.Query
		if len(cutTwo) != len(toks) {
			gq = gramQuery(c.Text)
		}
		if len(cut) != len(toks) || gq != nil {
			b.widens = true
		}
		switch {
		case b.lenient && b.grams && gq != nil:
			toks, gram = cutTwo, gq
		case b.lenient:
			toks = cut
		}
	}
	pos, n := positions(toks)
	b.terms += n
	if b.terms > maxQueryTerms {
		return nil, nil
	}
	if gram != nil {
		b.gramsUsed = true
		if n == 0 {
			return gram, nil
		}
		return bleve.NewConjunctionQuery(gram, b.positionsQuery(pos)), nil
	}
	if n == 0 {
		return nil, nil
	}
	if f := ja.Fold(c.Text).Text; !c.Quoted && c.Field == "" && len(pos) > 1 && katakanaOnly(f) {
		// A word of katakana that the dictionary cuts into words
		// (クラスター) also matches the run indexed whole, the way a
		// post that spells it otherwise (クラスタ) may hold it as one
		// word.
		return newDisMax(b.positionsQuery(pos), b.positionsQuery([][]string{{ja.StemKatakana(f)}})), nil
	}
	return b.positionsQuery(pos), nil
}

// gramQuery matches the posts that hold every pair of adjacent characters
// of the Japanese of text (see gram.go), at most maxQueryGrams of them
// spread over the text; it only filters. Nil when text has fewer than
// minQueryGrams pairs, too few to pick posts out.
func gramQuery(text string) query.Query {
	var gs []string
	seen := map[string]bool{}
	grams(text, func(g string, _ int) {
		if !seen[g] {
			seen[g] = true
			gs = append(gs, g)
		}
	})
	if len(gs) < minQueryGrams {
		return nil
	}
	qs := make([]query.Query, 0, min(len(gs), maxQueryGrams))
	for i := range min(len(gs), maxQueryGrams) {
		tq := bleve.NewTermQuery(gs[i*len(gs)/min(len(gs), maxQueryGrams)])
		tq.SetField(gramField)
		qs = append(qs, tq)
	}
	return &filterQuery{bleve.NewConjunctionQuery(qs...)}
}

// positionsQuery matches analysed text in the title or the body: one term
// (or its alternatives), or a phrase.
func (b *builder) positionsQuery(pos [][]string) query.Query {
	pos = b.spread(pos)
	field := func(f string, tier float64) query.Query {
		var q query.Query
		if len(pos) == 1 {
			alts := make([]query.Query, len(pos[0]))
			for i, t := range pos[0] {
				tq := bleve.NewTermQuery(t)
				tq.SetField(f)
				alts[i] = tq
			}
			q = alts[0]
			if len(alts) > 1 {
				q = bleve.NewDisjunctionQuery(alts...)
			}
		} else {
			terms := make([][]string, len(pos))
			for i, alts := range pos {
				terms[i] = alts
				if len(alts) == 0 {
					terms[i] = []string{""} // a gap: a word that is not indexed
				}
			}
			q = &phraseQuery{field: f, terms: terms, cache: b.cache}
		}
		if f == "title" && b.inTitles {
			b.titles = append(b.titles, q)
		}
		return &tierQuery{q: q, base: tier}
	}
	// A post that has the words in its title and its body scores the sum;
	// Bleve halves the score of one that has them in one field only. A post
	// without them in its title thus scores below 0.5, and one with them
	// at least 0.5.
	return bleve.NewDisjunctionQuery(field("title", 1), field("text", 0))
}

// spread returns the terms a query asks for at each position, given the
// analyzer's terms of the query's text. A kanji word alone asks for the
// posts that write it as a word (本木, not 六本木); a phrase asks for its
// morphemes as its own text's normal mode cuts them. A lenient query asks
// for each kanji morpheme either way, since normal mode may cut a piece of
// text apart otherwise than the post around it. Asking either way in the
// exact query would rank a post higher for also holding the word inside a
// longer one, whose term is the rarer.
func (b *builder) spread(pos [][]string) [][]string {
	out := make([][]string, len(pos))
	for i, alts := range pos {
		for _, t := range alts {
			p := plainTerm(t)
			if !kanjiOnly(p) {
				out[i] = appendNew(out[i], t)
				continue
			}
			b.widens = true
			switch {
			case b.lenient:
				out[i] = appendNew(appendNew(out[i], p), partMark+p)
			case len(pos) == 1:
				out[i] = appendNew(out[i], p)
			default:
				out[i] = appendNew(out[i], t)
			}
		}
	}
	return out
}

func appendNew(s []string, t string) []string {
	for _, x := range s {
		if x == t {
			return s
		}
	}
	return append(s, t)
}

// expand replaces runs of plain words that spell a glossary term with a
// clause matching any of its spellings; the longest run wins.
func (b *builder) expand(p parsed) parsed {
	if b.gloss == nil || len(b.gloss.groups) == 0 {
		return p
	}
	toks := make([][]token, len(p))
	for i, g := range p {
		if len(g) == 1 && g[0].Field == "" && !g[0].Neg && !g[0].Quoted {
			toks[i] = searchable(b.an.Analyze(g[0].Text))
		}
	}
	var out parsed
	for i := 0; i < len(p); {
		matched := 0
		for n := min(maxGlossaryWords, len(p)-i); n >= 1 && matched == 0; n-- {
			var run []token
			for _, t := range toks[i : i+n] {
				if t == nil {
					run = nil
					break
				}
				// Continue the positions from one word to the next.
				off := 0
				if len(run) > 0 {
					off = run[len(run)-1].Position
				}
				for _, tk := range t {
					tk.Position += off
					run = append(run, tk)
				}
			}
			pos, _ := positions(run)
			if group, ok := b.gloss.lookup(pos); ok {
				out = append(out, []clause{{Field: "gloss", Text: joinTexts(p[i : i+n]), group: group}})
				matched = n
			}
		}
		if matched == 0 {
			out = append(out, p[i])
			matched = 1
		}
		i += matched
	}
	return out
}

func joinTexts(p parsed) string {
	var s []string
	for _, g := range p {
		s = append(s, g[0].Text)
	}
	return strings.Join(s, " ")
}

// trimEdges returns toks without their first and last word where those
// are Japanese, when they hold least words or more; a word is a token with the
// parts of a compound that it holds. A piece of text pasted from a post
// often starts or ends inside a word, whose remnant (ンター of センター) is
// no word of the post; the words inside the piece, in their order, still
// are.
func trimEdges(toks []token, least int) []token {
	// starts[i] is the index of the i-th word's first token.
	var starts []int
	end := -1
	for i, t := range toks {
		if t.Run {
			continue // its dictionary words are the words
		}
		if t.Start >= end {
			starts = append(starts, i)
		}
		end = max(end, t.End)
	}
	japanese := func(t token) bool {
		r, _ := utf8.DecodeRuneInString(plainTerm(t.Term))
		return classify(r) == classJapanese
	}
	lo, hi := 0, len(toks)
	if len(starts) < least {
		return toks // too little left to mean anything
	}
	if japanese(toks[0]) {
		lo = starts[1]
	}
	if japanese(toks[len(toks)-1]) {
		hi = starts[len(starts)-1]
	}
	return toks[lo:hi]
}
