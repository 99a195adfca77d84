package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/ipa"
	"github.com/ikawaha/kagome/v2/tokenizer"
	"golang.org/x/text/unicode/norm"
	"golang.org/x/text/width"

	"vplanet"
	"vplanet/index"
)

// The quality mode (-quality) measures search quality where Japanese
// search is hard, vplanet against Groonga + MeCab on the same posts with
// the same queries, and writes one table (docs/search-quality.md).
//
// The queries are generated from the posts by the rules below, with a
// seeded generator, never picked by hand. Word boundaries are those of
// kagome's normal mode with the IPA dictionary: the segmentation MeCab with
// mecab-ipadic gives, which neither engine's index uses as it is (vplanet
// indexes search mode's finer words, Groonga MeCab's tokens of the whole
// text).
//
//   - cut fragments: 12 characters of one run of Japanese text of a post
//     that start and end inside a word, as a person pastes a piece of a
//     sentence. Success: the post is in the top 10.
//   - aligned fragments: the same, starting and ending at word boundaries.
//   - part of a word: a two-kanji word that at least two posts write as a
//     word and at least two others only inside a longer word (本木 of
//     六本木). Measured: the share of the top-10 hits that do not write it
//     as a word (lower is better).
//   - stop-word phrases: four consecutive English words of a post, two of
//     them stop words, quoted, that at most three posts hold. Success: the
//     post is in the top 10 and every hit of the top 10 holds the phrase.
//   - width and long-vowel variants: a katakana word of four characters or
//     more that at most five posts hold, asked without its last ー
//     (オペレーター as オペレータ), with a ー added where loanwords often drop
//     one (クラスタ as クラスター), or, one time in three, in half-width
//     katakana.
//     Success: the post is in the top 10.
//   - katakana compound prefixes: a run of seven katakana or more that at
//     most five posts hold, asked by its longest prefix (three characters
//     or more, three fewer than the run or less) that the corpus also
//     writes as a run of its own. Success: the post is among the hits.
//   - two rare nouns: two nouns of kanji or katakana of a post, each held
//     by at most three posts. Success: the post is in the top 10.
//
// Each set takes at most -quality-queries queries, at most one a post,
// from the posts in an order shuffled with -seed.

// qualityParams are the -quality mode's settings.
type qualityParams struct {
	quality        bool
	qualityOut     string
	fixtures       bool
	qualityQueries int
	baseline       string // a git revision measured beside this build; "" none
}

func qualityFlags(fs *flag.FlagSet, p *params) {
	fs.BoolVar(&p.quality, "quality", false, "measure search quality against Groonga + MeCab instead of the system (see quality.go)")
	fs.StringVar(&p.qualityOut, "quality-out", "docs/search-quality.md", "Markdown `file` for -quality's table, relative to the module root; empty: print only")
	fs.BoolVar(&p.fixtures, "quality-fixtures", false, "-quality on the fixtures under testdata instead of the shared corpus")
	fs.IntVar(&p.qualityQueries, "quality-queries", 200, "-quality: at most this many queries in each set")
	fs.StringVar(&p.baseline, "baseline", "", "-quality: also measure vplanet at this git `revision`, built in a temporary worktree")
}

// qualitySet is one set of generated queries.
type qualitySet struct {
	name, rule string
	metric     string // what the figure is
	lowerWins  bool
	depth      int // hits looked at; 0 means all
	queries    []qualityQuery
}

// qualityQuery is one query and what it looks for.
type qualityQuery struct {
	Q    string `json:"q"`
	post string
	word string // the kanji word of a part-of-word query; the phrase of a stop-word one
}

// answer is one engine's answer to one query.
type answer struct {
	IDs     []string `json:"ids"`
	Partial bool     `json:"partial"`
}

// engine answers every query of a set at once.
type engine interface {
	answer(ctx context.Context, qs []string, depth int) ([]answer, error)
}

// qualityDepthAll bounds the hits looked at for "among the hits".
const qualityDepthAll = 1000

// runQuality is the -quality mode.
func runQuality(ctx context.Context, p *params, stdout, stderr io.Writer) error {
	cwd, err := os.Getwd()
	if err != nil {
		return err
	}
	root, err := moduleRoot(ctx, cwd)
	if err != nil {
		return err
	}
	if p.corpus == "" {
		p.corpus = filepath.Join(root, "..", "shared", "corpus")
	}
	out := p.qualityOut
	if out != "" && !filepath.IsAbs(out) {
		out = filepath.Join(root, out)
	}
	rep, err := measureQuality(ctx, p, root, stderr)
	if err != nil {
		return err
	}
	md := rep.markdown()
	fmt.Fprint(stdout, md)
	if out != "" {
		if err := os.WriteFile(out, []byte(md), 0o644); err != nil {
			return fmt.Errorf("write table: %w", err)
		}
		fmt.Fprintf(stderr, "wrote %s\n", out)
	}
	return nil
}

// qualityReport is the measure's outcome: per set, per engine, a figure.
type qualityReport struct {
	source  string
	posts   int
	ja, en  int
	seed    uint64
	engines []string // column heads
	notes   []string
	sets    []*qualitySet
	figures map[string][]qualityFigure // by set name, one per engine
}

type qualityFigure struct {
	value   float64 // a share, 0..1
	partial int     // answers marked partial
	ok      bool    // measured
}

func measureQuality(ctx context.Context, p *params, root string, progress io.Writer) (*qualityReport, error) {
	work, err := os.MkdirTemp("", "vplanet-quality-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	var posts []*vplanet.Post
	rep := &qualityReport{seed: p.seed, figures: map[string][]qualityFigure{}}
	if p.fixtures {
		posts, err = fixturePosts(root)
		rep.source = "the fixtures committed under index/testdata and index/ja/testdata"
	} else {
		posts, err = corpusPosts(p.corpus)
		rep.source = "the shared corpus: the Hatena Blog entries (Japanese and English), the seed posts, and Botchan cut into posts of about 3 KB"
	}
	if err != nil {
		return nil, err
	}
	for _, post := range posts {
		if post.Lang == "ja" {
			rep.ja++
		} else {
			rep.en++
		}
	}
	rep.posts = len(posts)
	fmt.Fprintf(progress, "quality: %d posts (%d Japanese)\n", len(posts), rep.ja)
	sets, err := qualitySets(posts, p.seed, p.qualityQueries)
	if err != nil {
		return nil, err
	}
	rep.sets = sets

	type column struct {
		name string
		e    engine
	}
	var cols []column
	if p.baseline != "" {
		fmt.Fprintf(progress, "quality: building vplanet at %s\n", p.baseline)
		b, err := newBaseline(ctx, root, p.baseline, work, posts)
		if err != nil {
			return nil, err
		}
		defer b.close()
		cols = append(cols, column{"vplanet " + b.rev + " (before)", b})
	}
	v, err := newVplanetEngine(ctx, filepath.Join(work, "index"), posts)
	if err != nil {
		return nil, err
	}
	defer v.ix.Close()
	cols = append(cols, column{"vplanet", v})
	if p.groonga {
		gdir := filepath.Join(work, "groonga")
		if err := os.MkdirAll(gdir, 0o755); err != nil {
			return nil, err
		}
		g, err := newGroonga(ctx, gdir)
		if err == nil {
			_, err = g.load(ctx, posts)
		}
		var s *groongaServer
		if err == nil {
			s, err = g.serve(ctx)
		}
		switch {
		case err == nil:
			defer s.stop()
			cols = append(cols, column{fmt.Sprintf("%s + MeCab (%s)", g.version, g.dict), &groongaEngine{s: s, c: &http.Client{Timeout: 30 * time.Second}}})
		case isSkip(err):
			rep.notes = append(rep.notes, "Groonga not measured: "+err.Error())
		default:
			return nil, err
		}
	}
	byID := map[string]*vplanet.Post{}
	for _, post := range posts {
		byID[post.ID] = post
	}
	words := newWordCache(byID)
	for _, c := range cols {
		rep.engines = append(rep.engines, c.name)
		fmt.Fprintf(progress, "quality: asking %s\n", c.name)
		for _, s := range sets {
			qs := make([]string, len(s.queries))
			for i, q := range s.queries {
				qs[i] = q.Q
			}
			if len(qs) == 0 {
				rep.figures[s.name] = append(rep.figures[s.name], qualityFigure{})
				continue
			}
			ans, err := c.e.answer(ctx, qs, s.depth)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", c.name, s.name, err)
			}
			rep.figures[s.name] = append(rep.figures[s.name], s.score(ans, byID, words))
		}
	}
	return rep, nil
}

func isSkip(err error) bool { return err != nil && strings.Contains(err.Error(), errSkip.Error()) }

// score turns a set's answers into its figure.
func (s *qualitySet) score(ans []answer, byID map[string]*vplanet.Post, words *wordCache) qualityFigure {
	f := qualityFigure{ok: true}
	var num, den int
	for i, a := range ans {
		q := s.queries[i]
		if a.Partial {
			f.partial++
		}
		top := a.IDs
		if s.depth > 0 && len(top) > s.depth {
			top = top[:s.depth]
		}
		switch s.name {
		case setPartWord:
			for _, id := range top {
				den++
				if !words.has(id, q.word) {
					num++
				}
			}
		case setStopPhrase:
			den++
			good := slices.Contains(top, q.post)
			for _, id := range top {
				p := byID[id]
				good = good && p != nil && strings.Contains(phraseText(p.Title+" "+p.Text), q.word)
			}
			if good {
				num++
			}
		default:
			den++
			if slices.Contains(top, q.post) {
				num++
			}
		}
	}
	if den > 0 {
		f.value = float64(num) / float64(den)
	}
	return f
}

// Set names.
const (
	setCut        = "cut fragments"
	setAligned    = "aligned fragments"
	setPartWord   = "part of a word"
	setStopPhrase = "stop-word phrases"
	setVariant    = "width and long-vowel variants"
	setPrefix     = "katakana compound prefixes"
	setRareNouns  = "two rare nouns"
)

// segmenter gives kagome's normal-mode words of a text.
type segmenter struct{ t *tokenizer.Tokenizer }

func newSegmenter() (*segmenter, error) {
	t, err := tokenizer.New(ipa.Dict(), tokenizer.OmitBosEos())
	if err != nil {
		return nil, fmt.Errorf("kagome: %w", err)
	}
	return &segmenter{t}, nil
}

// word is a normal-mode word: its surface, byte offset and part of speech.
type word struct {
	surface string
	start   int
	noun    bool
}

func (s *segmenter) words(text string) []word {
	toks := s.t.Analyze(text, tokenizer.Normal)
	out := make([]word, 0, len(toks))
	for _, t := range toks {
		out = append(out, word{surface: t.Surface, start: t.Position, noun: t.POS()[0] == "名詞"})
	}
	return out
}

// wordCache says whether a post writes a word as a normal-mode word.
type wordCache struct {
	seg   *segmenter
	byID  map[string]*vplanet.Post
	words map[string]map[string]bool
}

func newWordCache(byID map[string]*vplanet.Post) *wordCache {
	seg, _ := newSegmenter() // loaded before, by qualitySets
	return &wordCache{seg: seg, byID: byID, words: map[string]map[string]bool{}}
}

func (c *wordCache) has(id, w string) bool {
	ws, ok := c.words[id]
	if !ok {
		ws = map[string]bool{}
		if p := c.byID[id]; p != nil {
			for _, x := range c.seg.words(p.Title + "\n" + p.Text) {
				ws[x.surface] = true
			}
		}
		c.words[id] = ws
	}
	return ws[w]
}

func isJapanese(r rune) bool {
	return r == 'ー' || r == '々' || unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han)
}

func isKatakana(r rune) bool { return r == 'ー' || unicode.Is(unicode.Katakana, r) && r != '・' }

func allOf(s string, f func(rune) bool) bool {
	for _, r := range s {
		if !f(r) {
			return false
		}
	}
	return s != ""
}

func isHan(r rune) bool { return unicode.Is(unicode.Han, r) }

// phraseText lower-cases text and turns each run of anything but letters
// and digits into one space, as both engines read a phrase.
func phraseText(text string) string {
	var b strings.Builder
	space := true
	for _, r := range strings.ToLower(text) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
			space = false
		} else if !space {
			b.WriteByte(' ')
			space = true
		}
	}
	return " " + b.String() + " "
}

// qualitySets generates the query sets from posts.
func qualitySets(posts []*vplanet.Post, seed uint64, perSet int) ([]*qualitySet, error) {
	seg, err := newSegmenter()
	if err != nil {
		return nil, err
	}
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	order := slices.Clone(posts)
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })

	// df counts the posts holding s anywhere in title or text.
	all := make([]string, len(posts))
	for i, p := range posts {
		all[i] = p.Title + "\n" + p.Text
	}
	dfCache := map[string]int{}
	df := func(s string) int {
		if n, ok := dfCache[s]; ok {
			return n
		}
		n := 0
		for _, t := range all {
			if strings.Contains(t, s) {
				n++
			}
		}
		dfCache[s] = n
		return n
	}
	// runs are the whole katakana runs the corpus writes.
	runs := map[string]bool{}
	for _, t := range all {
		for _, r := range strings.FieldsFunc(t, func(r rune) bool { return !isKatakana(r) }) {
			runs[r] = true
		}
	}

	sets := []*qualitySet{
		{name: setCut, rule: "12 characters of Japanese starting and ending inside a word", metric: "post in top 10", depth: 10},
		{name: setAligned, rule: "12 characters of Japanese starting and ending at word boundaries", metric: "post in top 10", depth: 10},
		{name: setPartWord, rule: "a two-kanji word that ≥ 2 posts write as a word and ≥ 2 others only inside a longer word", metric: "top-10 hits without it as a word (lower is better)", lowerWins: true, depth: 10},
		{name: setStopPhrase, rule: "4 consecutive English words, 2 or more of them stop words, quoted, held by ≤ 3 posts", metric: "post in top 10 and every top-10 hit holds the phrase", depth: 10},
		{name: setVariant, rule: "a katakana word held by ≤ 5 posts, asked without its last ー, with a ー added (クラスタ as クラスター), or in half-width", metric: "post in top 10", depth: 10},
		{name: setPrefix, rule: "a run of ≥ 7 katakana held by ≤ 5 posts, asked by its longest prefix the corpus writes as a run of its own", metric: "post among the hits", depth: 0},
		{name: setRareNouns, rule: "two kanji or katakana nouns of a post, each held by ≤ 3 posts", metric: "post in top 10", depth: 10},
	}
	set := map[string]*qualitySet{}
	for _, s := range sets {
		set[s.name] = s
	}
	full := func(name string) bool { return len(set[name].queries) >= perSet }
	add := func(name string, q qualityQuery) {
		if !full(name) {
			set[name].queries = append(set[name].queries, q)
		}
	}
	// Part-of-word words: counted over every Japanese post first.
	alone, inside := map[string]int{}, map[string]int{}
	postWords := map[string][]word{}
	for _, p := range order {
		if p.Lang != "ja" {
			continue
		}
		ws := seg.words(p.Title + "\n" + p.Text)
		postWords[p.ID] = ws
		a, in := map[string]bool{}, map[string]bool{}
		for _, w := range ws {
			rs := []rune(w.surface)
			if len(rs) == 2 && allOf(w.surface, isHan) {
				a[w.surface] = true
				continue
			}
			for i := 0; i+2 <= len(rs) && len(rs) > 2; i++ {
				if sub := string(rs[i : i+2]); allOf(sub, isHan) {
					in[sub] = true
				}
			}
		}
		for w := range a {
			alone[w]++
		}
		for w := range in {
			if !a[w] {
				inside[w]++
			}
		}
	}
	var partWords []string
	for w, n := range alone {
		if n >= 2 && inside[w] >= 2 {
			partWords = append(partWords, w)
		}
	}
	slices.Sort(partWords)
	rng.Shuffle(len(partWords), func(i, j int) { partWords[i], partWords[j] = partWords[j], partWords[i] })
	for _, w := range partWords {
		add(setPartWord, qualityQuery{Q: w, word: w})
	}

	for _, p := range order {
		if p.Lang != "ja" {
			if !full(setStopPhrase) {
				if ph := stopPhrase(p.Text, rng, df, all); ph != "" {
					add(setStopPhrase, qualityQuery{Q: `"` + ph + `"`, post: p.ID, word: " " + phraseText(ph)[1:]})
				}
			}
			continue
		}
		ws := postWords[p.ID]
		if cut, aligned := fragments(p.Title+"\n"+p.Text, ws, rng); true {
			if cut != "" {
				add(setCut, qualityQuery{Q: cut, post: p.ID})
			}
			if aligned != "" {
				add(setAligned, qualityQuery{Q: aligned, post: p.ID})
			}
		}
		// Variants: a word that ends in ー asked without it or in
		// half-width; one that ends where loanwords often drop the ー
		// (クラスタ, オペレータ) asked with it.
		var vs []string
		for _, w := range ws {
			if utf8.RuneCountInString(w.surface) >= 4 && allOf(w.surface, isKatakana) && !slices.Contains(vs, w.surface) &&
				(strings.HasSuffix(w.surface, "ー") || strings.ContainsAny(lastRune(w.surface), longVowelEnds)) {
				vs = append(vs, w.surface)
			}
		}
		rng.Shuffle(len(vs), func(i, j int) { vs[i], vs[j] = vs[j], vs[i] })
		for _, v := range vs {
			if df(v) > 5 {
				continue
			}
			q := v + "ー"
			if strings.HasSuffix(v, "ー") {
				q = strings.TrimSuffix(v, "ー")
			}
			if df(q) > 5 {
				continue
			}
			if rng.IntN(3) == 0 {
				q = halfWidth(v)
			}
			add(setVariant, qualityQuery{Q: q, post: p.ID})
			break
		}
		// Katakana compound prefixes.
		text := p.Title + "\n" + p.Text
		var comps []string
		for _, r := range strings.FieldsFunc(text, func(r rune) bool { return !isKatakana(r) }) {
			if utf8.RuneCountInString(r) >= 7 && !strings.HasPrefix(r, "ー") && !slices.Contains(comps, r) {
				comps = append(comps, r)
			}
		}
		rng.Shuffle(len(comps), func(i, j int) { comps[i], comps[j] = comps[j], comps[i] })
		for _, c := range comps {
			if df(c) > 5 {
				continue
			}
			rs := []rune(c)
			prefix := ""
			for n := len(rs) - 3; n >= 3; n-- {
				if runs[string(rs[:n])] {
					prefix = string(rs[:n])
					break
				}
			}
			if prefix != "" {
				add(setPrefix, qualityQuery{Q: prefix, post: p.ID})
				break
			}
		}
		// Two rare nouns.
		var nouns []string
		for _, w := range ws {
			if w.noun && utf8.RuneCountInString(w.surface) >= 2 && (allOf(w.surface, isHan) || allOf(w.surface, isKatakana)) &&
				!slices.Contains(nouns, w.surface) && df(w.surface) <= 3 {
				nouns = append(nouns, w.surface)
			}
		}
		if len(nouns) >= 2 {
			i := rng.IntN(len(nouns))
			j := (i + 1 + rng.IntN(len(nouns)-1)) % len(nouns)
			add(setRareNouns, qualityQuery{Q: nouns[i] + " " + nouns[j], post: p.ID})
		}
	}
	return sets, nil
}

// fragments picks, from the runs of Japanese of text, a piece of 12
// characters that starts and ends inside words (cut) and one that starts
// and ends at word boundaries (aligned), at random among all such pieces.
func fragments(text string, ws []word, rng *rand.Rand) (cut, aligned string) {
	const chars = 12
	bounds := map[int]bool{}
	for _, w := range ws {
		bounds[w.start] = true
		bounds[w.start+len(w.surface)] = true
	}
	var cuts, aligns []string
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isJapanese(r) {
			i += n
			continue
		}
		j, k := i, 0
		for ; j < len(text) && k < chars; k++ {
			r, m := utf8.DecodeRuneInString(text[j:])
			if !isJapanese(r) {
				break
			}
			j += m
		}
		if k == chars {
			switch {
			case !bounds[i] && !bounds[j]:
				cuts = append(cuts, text[i:j])
			case bounds[i] && bounds[j]:
				aligns = append(aligns, text[i:j])
			}
		}
		i += n
	}
	if len(cuts) > 0 {
		cut = cuts[rng.IntN(len(cuts))]
	}
	if len(aligns) > 0 {
		aligned = aligns[rng.IntN(len(aligns))]
	}
	return cut, aligned
}

// longVowelEnds are the last characters of loanwords that are written
// both with and without a final ー (クラスタ, クラスター).
const longVowelEnds = "タダラサザバパカガナマジ"

func lastRune(s string) string {
	_, n := utf8.DecodeLastRuneInString(s)
	return s[len(s)-n:]
}

// halfWidth writes katakana in half-width forms, voiced ones as two
// characters (バ as ﾊﾞ), as old systems and some people type them.
func halfWidth(s string) string {
	s = width.Narrow.String(norm.NFD.String(s))
	return strings.NewReplacer("\u3099", "ﾞ", "\u309a", "ﾟ").Replace(s)
}

var reEnglishRun = regexp.MustCompile(`[A-Za-z]+(?: [A-Za-z]+){3,}`)

// stopPhrase picks four consecutive words of text, two or more of them
// stop words and one a word of three letters or more that is not, held by
// at most three posts.
func stopPhrase(text string, rng *rand.Rand, df func(string) int, all []string) string {
	var cands []string
	for _, run := range reEnglishRun.FindAllString(text, -1) {
		ws := strings.Split(run, " ")
		for i := 0; i+4 <= len(ws); i++ {
			stops, content := 0, false
			for _, w := range ws[i : i+4] {
				if index.StopWord(strings.ToLower(w)) {
					stops++
				} else if len(w) >= 3 {
					content = true
				}
			}
			if stops >= 2 && content {
				cands = append(cands, strings.Join(ws[i:i+4], " "))
			}
		}
	}
	rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
	for _, c := range cands {
		if df(c) <= 3 {
			return c
		}
	}
	return ""
}

// vplanetEngine is an index of this build, in this process.
type vplanetEngine struct{ ix *index.Index }

func newVplanetEngine(ctx context.Context, dir string, posts []*vplanet.Post) (*vplanetEngine, error) {
	ix, err := index.Open(dir, index.Options{})
	if err != nil {
		return nil, err
	}
	if err := ix.Apply(ctx, posts); err != nil {
		ix.Close()
		return nil, err
	}
	return &vplanetEngine{ix}, nil
}

func (v *vplanetEngine) answer(ctx context.Context, qs []string, depth int) ([]answer, error) {
	return searchAll(ctx, v.ix, qs, depth)
}

// searchAll asks ix each query for its first depth hits (0: all, up to
// qualityDepthAll). A query vplanet refuses finds nothing.
func searchAll(ctx context.Context, ix *index.Index, qs []string, depth int) ([]answer, error) {
	if depth == 0 {
		depth = qualityDepthAll
	}
	out := make([]answer, len(qs))
	for i, q := range qs {
		a := answer{IDs: []string{}}
		for off := 0; off < depth; off += 100 {
			res, err := ix.Search(ctx, index.Request{Query: q, Limit: min(100, depth-off), Offset: off})
			if err != nil {
				break
			}
			for _, h := range res.Hits {
				a.IDs = append(a.IDs, h.ID)
			}
			a.Partial = a.Partial || res.Partial
			if len(res.Hits) < min(100, depth-off) {
				break
			}
		}
		out[i] = a
	}
	return out, nil
}

// groongaEngine asks a Groonga server, title and text matched with its
// default match escalation, ranked by score.
type groongaEngine struct {
	s *groongaServer
	c *http.Client
}

func (g *groongaEngine) answer(ctx context.Context, qs []string, depth int) ([]answer, error) {
	if depth == 0 {
		depth = qualityDepthAll
	}
	out := make([]answer, len(qs))
	for i, q := range qs {
		v := url.Values{
			"table":          {"Posts"},
			"match_columns":  {"title||text"},
			"query":          {q},
			"output_columns": {"_key"},
			"sort_keys":      {"-_score,_key"},
			"limit":          {strconv.Itoa(depth)},
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, g.s.base+"/d/select?"+v.Encode(), nil)
		resp, err := g.c.Do(req)
		if err != nil {
			return nil, err
		}
		var ans []json.RawMessage
		err = json.NewDecoder(resp.Body).Decode(&ans)
		resp.Body.Close()
		if err != nil || len(ans) < 2 {
			// A query Groonga cannot parse finds nothing, as vplanet's
			// refused queries do.
			out[i] = answer{IDs: []string{}}
			continue
		}
		var body [][]json.RawMessage
		if err := json.Unmarshal(ans[1], &body); err != nil || len(body) == 0 || len(body[0]) < 2 {
			out[i] = answer{IDs: []string{}}
			continue
		}
		a := answer{IDs: []string{}}
		for _, row := range body[0][2:] {
			var key []string
			if err := json.Unmarshal(row, &key); err == nil && len(key) == 1 {
				a.IDs = append(a.IDs, key[0])
			}
		}
		out[i] = a
	}
	return out, nil
}

// baseline is vplanet at another revision, built from a git worktree and
// run as a subprocess that indexes the same posts and answers the same
// queries through the index package's API, so that a change is measured
// before and after in one run.
type baseline struct {
	rev, dir, root, posts string
}

// baselineDriver is the program run in the baseline's worktree.
const baselineDriver = `package main

import (
	"context"
	"encoding/json"
	"os"

	"vplanet"
	"vplanet/index"
)

func main() {
	var in struct {
		Posts   []*vplanet.Post
		Index   string
		Queries []string
		Depth   int
	}
	b, err := os.ReadFile(os.Args[1])
	if err != nil {
		panic(err)
	}
	if err := json.Unmarshal(b, &in); err != nil {
		panic(err)
	}
	ctx := context.Background()
	ix, err := index.Open(in.Index, index.Options{})
	if err != nil {
		panic(err)
	}
	defer ix.Close()
	if ix.Seq() == 0 {
		if err := ix.Apply(ctx, in.Posts); err != nil {
			panic(err)
		}
	}
	type answer struct {
		IDs     []string ` + "`json:\"ids\"`" + `
		Partial bool     ` + "`json:\"partial\"`" + `
	}
	out := make([]answer, len(in.Queries))
	depth := in.Depth
	for i, q := range in.Queries {
		a := answer{IDs: []string{}}
		for off := 0; off < depth; off += 100 {
			res, err := ix.Search(ctx, index.Request{Query: q, Limit: min(100, depth-off), Offset: off})
			if err != nil {
				break
			}
			for _, h := range res.Hits {
				a.IDs = append(a.IDs, h.ID)
			}
			a.Partial = a.Partial || res.Partial
			if len(res.Hits) < min(100, depth-off) {
				break
			}
		}
		out[i] = a
	}
	json.NewEncoder(os.Stdout).Encode(out)
}
`

func newBaseline(ctx context.Context, root, rev, work string, posts []*vplanet.Post) (*baseline, error) {
	out, err := exec.CommandContext(ctx, "git", "-C", root, "rev-parse", "--short", rev).Output()
	if err != nil {
		return nil, fmt.Errorf("baseline %s: not a revision: %w", rev, err)
	}
	b := &baseline{rev: strings.TrimSpace(string(out)), dir: filepath.Join(work, "baseline"), root: root}
	if out, err := exec.CommandContext(ctx, "git", "-C", root, "worktree", "add", "--detach", b.dir, rev).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("baseline %s: git worktree: %w: %s", rev, err, firstLine(string(out), 200))
	}
	drv := filepath.Join(b.dir, "cmd", "vplanet-quality-baseline")
	if err := os.MkdirAll(drv, 0o755); err != nil {
		b.close()
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(drv, "main.go"), []byte(baselineDriver), 0o644); err != nil {
		b.close()
		return nil, err
	}
	build := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join(work, "baseline-driver"), "./cmd/vplanet-quality-baseline")
	build.Dir = b.dir
	if out, err := build.CombinedOutput(); err != nil {
		b.close()
		return nil, fmt.Errorf("baseline %s: build: %w: %s", rev, err, firstLine(string(out), 300))
	}
	b.posts = filepath.Join(work, "baseline-index")
	return b, b.write(posts)
}

// write keeps the posts for each call; the first call indexes them.
func (b *baseline) write(posts []*vplanet.Post) error {
	data, err := json.Marshal(posts)
	if err != nil {
		return err
	}
	return os.WriteFile(b.posts+".json", data, 0o644)
}

func (b *baseline) answer(ctx context.Context, qs []string, depth int) ([]answer, error) {
	if depth == 0 {
		depth = qualityDepthAll
	}
	posts, err := os.ReadFile(b.posts + ".json")
	if err != nil {
		return nil, err
	}
	in, err := json.Marshal(map[string]any{"Posts": json.RawMessage(posts), "Index": b.posts, "Queries": qs, "Depth": depth})
	if err != nil {
		return nil, err
	}
	inPath := filepath.Join(filepath.Dir(b.posts), "baseline-in.json")
	if err := os.WriteFile(inPath, in, 0o644); err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(filepath.Dir(b.posts), "baseline-driver"), inPath)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("baseline %s: %w: %s", b.rev, err, firstLine(stderr.String(), 300))
	}
	var ans []answer
	if err := json.Unmarshal(out, &ans); err != nil || len(ans) != len(qs) {
		return nil, fmt.Errorf("baseline %s: %d answers to %d queries: %v", b.rev, len(ans), len(qs), err)
	}
	return ans, nil
}

func (b *baseline) close() {
	exec.Command("git", "-C", b.root, "worktree", "remove", "--force", b.dir).Run()
}

// corpusPosts reads the shared corpus as posts: every Hatena Blog entry,
// the seed posts, and Botchan cut into posts.
func corpusPosts(dir string) ([]*vplanet.Post, error) {
	content := filepath.Join(dir, "hatenablog", "content")
	if _, err := os.Stat(content); err != nil {
		return nil, fmt.Errorf("%w at %s (missing hatenablog/content): give its place with -corpus DIR", errNoCorpus, dir)
	}
	var posts []*vplanet.Post
	err := filepath.WalkDir(content, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		title, body := frontMatter(string(b))
		rel, _ := filepath.Rel(content, path)
		lang := "en"
		if strings.HasPrefix(rel, "ja"+string(filepath.Separator)) {
			lang = "ja"
		}
		posts = append(posts, qualityPost("hatena/"+filepath.ToSlash(rel), title, markupToText(body), lang))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	seeds, _ := filepath.Glob(filepath.Join(dir, "seeds", "*.txt"))
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		lang := "en"
		if strings.Contains(path, "-ja") {
			lang = "ja"
		}
		name := strings.TrimSuffix(filepath.Base(path), ".txt")
		for i, text := range cutText(string(b), 3000) {
			posts = append(posts, qualityPost(fmt.Sprintf("seeds/%s/%d", name, i+1), fmt.Sprintf("%s (%d)", name, i+1), text, lang))
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "aozora", "bocchan.txt"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	for i, text := range cutText(reRuby.ReplaceAllString(string(b), ""), 3000) {
		posts = append(posts, qualityPost(fmt.Sprintf("aozora/bocchan/%d", i+1), fmt.Sprintf("坊っちゃん (%d)", i+1), text, "ja"))
	}
	return posts, nil
}

// fixturePosts makes posts of the texts committed under testdata: the
// Botchan excerpt cut into posts of about 1 KB, and the samples.
func fixturePosts(root string) ([]*vplanet.Post, error) {
	var posts []*vplanet.Post
	for _, f := range []struct{ path, lang string }{
		{"index/ja/testdata/bocchan-ja.txt", "ja"},
		{"index/ja/testdata/bocchan-search-ja.txt", "ja"},
		{"index/testdata/sample-ja.txt", "ja"},
		{"index/testdata/sample-en.txt", "en"},
		{"cmd/vplanet-bench/testdata/quality-ja.txt", "ja"},
		{"cmd/vplanet-bench/testdata/quality-en.txt", "en"},
	} {
		b, err := os.ReadFile(filepath.Join(root, f.path))
		if err != nil {
			return nil, fmt.Errorf("fixtures: %w", err)
		}
		name := strings.TrimSuffix(filepath.Base(f.path), ".txt")
		for i, text := range cutText(reRuby.ReplaceAllString(string(b), ""), 600) {
			posts = append(posts, qualityPost(fmt.Sprintf("%s/%d", name, i+1), fmt.Sprintf("%s (%d)", name, i+1), text, f.lang))
		}
	}
	return posts, nil
}

// cutText cuts text into pieces of at least size bytes at line ends, or at
// the end of a sentence where a line runs longer.
func cutText(text string, size int) []string {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	text = strings.ReplaceAll(text, "。", "。\n")
	var out []string
	var b strings.Builder
	for _, line := range strings.Split(text, "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
		if b.Len() >= size {
			out = append(out, b.String())
			b.Reset()
		}
	}
	if b.Len() > size/4 {
		out = append(out, b.String())
	}
	return out
}

func qualityPost(id, title, text, lang string) *vplanet.Post {
	return &vplanet.Post{ID: id, URL: "https://example.org/" + id, Title: title, Text: text, Lang: lang,
		BlogSlug: "corpus", Visible: true, Published: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
}

// markdown renders the report.
func (r *qualityReport) markdown() string {
	var b strings.Builder
	b.WriteString("# Search quality: vplanet and Groonga + MeCab on the same posts\n\n")
	b.WriteString("Written by `go run ./cmd/vplanet-bench -quality`; see the comment at the top of\n")
	b.WriteString("`cmd/vplanet-bench/quality.go` for how each set of queries is generated.\n\n")
	fmt.Fprintf(&b, "Posts: %d (%d Japanese, %d English) from %s. Queries generated with seed %d; word boundaries are those of kagome's normal mode with the IPA dictionary. vplanet answers through its index package; a column marked (before) is vplanet at that revision, built and run in the same run (-baseline). Groonga matches title||text with TokenMecab, NormalizerAuto and its default match escalation, hits sorted by score.\n\n",
		r.posts, r.ja, r.en, r.source, r.seed)
	b.WriteString("| Set | How the queries are made | Figure | Queries |")
	for _, e := range r.engines {
		fmt.Fprintf(&b, " %s |", e)
	}
	b.WriteString("\n|---|---|---|--:|")
	for range r.engines {
		b.WriteString("--:|")
	}
	b.WriteString("\n")
	for _, s := range r.sets {
		fmt.Fprintf(&b, "| %s | %s | %s | %d |", s.name, s.rule, s.metric, len(s.queries))
		for _, f := range r.figures[s.name] {
			if !f.ok {
				b.WriteString(" – |")
				continue
			}
			cell := fmt.Sprintf("%.1f %%", 100*f.value)
			if f.partial > 0 {
				cell += fmt.Sprintf(" (%d partial)", f.partial)
			}
			fmt.Fprintf(&b, " %s |", cell)
		}
		b.WriteString("\n")
	}
	if len(r.notes) > 0 {
		b.WriteString("\n")
		for _, n := range r.notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
	}
	b.WriteString(r.targets())
	b.WriteString("\nExamples of each set (the first three):\n\n")
	for _, s := range r.sets {
		var ex []string
		for _, q := range s.queries[:min(3, len(s.queries))] {
			ex = append(ex, "`"+strings.ReplaceAll(q.Q, "`", "'")+"`")
		}
		fmt.Fprintf(&b, "- %s: %s\n", s.name, strings.Join(ex, ", "))
	}
	return b.String()
}

// targets says, for each target, whether this build meets it: more
// word-cutting fragments found than Groonga, no more part-of-word hits
// than Groonga, and, against the baseline when there is one, no set worse.
func (r *qualityReport) targets() string {
	var b strings.Builder
	b.WriteString("\nTargets:\n\n")
	mark := func(ok bool) string {
		if ok {
			return "met"
		}
		return "NOT met"
	}
	col := func(prefix string) int {
		for i, e := range r.engines {
			if strings.HasPrefix(e, prefix) && !strings.HasSuffix(e, "(before)") {
				return i
			}
		}
		return -1
	}
	v, g := col("vplanet"), col("Groonga")
	if g >= 0 {
		cv, cg := r.figures[setCut][v], r.figures[setCut][g]
		fmt.Fprintf(&b, "- cut fragments found above Groonga's: %s (%.1f %% against %.1f %%)\n", mark(cv.value > cg.value), 100*cv.value, 100*cg.value)
		pv, pg := r.figures[setPartWord][v], r.figures[setPartWord][g]
		fmt.Fprintf(&b, "- part-of-word hits in the top 10 at or below Groonga's: %s (%.1f %% against %.1f %%)\n", mark(pv.value <= pg.value), 100*pv.value, 100*pg.value)
	} else {
		b.WriteString("- against Groonga: not measured\n")
	}
	if len(r.engines) > 0 && strings.HasSuffix(r.engines[0], "(before)") {
		var worse []string
		for _, s := range r.sets {
			before, after := r.figures[s.name][0], r.figures[s.name][v]
			if s.lowerWins && after.value > before.value || !s.lowerWins && after.value < before.value {
				worse = append(worse, fmt.Sprintf("%s (%.1f %% against %.1f %%)", s.name, 100*after.value, 100*before.value))
			}
		}
		fmt.Fprintf(&b, "- no set worse than %s: %s", r.engines[0], mark(len(worse) == 0))
		if len(worse) > 0 {
			b.WriteString(": " + strings.Join(worse, ", "))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// figure returns the figure of set for the engine whose column head starts
// with prefix.
func (r *qualityReport) figure(set, prefix string) (qualityFigure, bool) {
	for i, e := range r.engines {
		if strings.HasPrefix(e, prefix) && i < len(r.figures[set]) {
			return r.figures[set][i], true
		}
	}
	return qualityFigure{}, false
}
