package main

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// corpus is the raw material of the synthetic community: sentences and
// titles in Japanese and English, taken from the Hatena Blog entries, the
// seed posts and Botchan.
type corpus struct {
	ja, en             []string // sentences
	jaTitles, enTitles []string
}

var (
	reTag      = regexp.MustCompile(`(?s)<[^>]*>`)
	reMDLink   = regexp.MustCompile(`!?\[([^\]]*)\]\([^)]*\)`)
	reRuby     = regexp.MustCompile(`《[^》]*》|［＃[^］]*］|｜`)
	reSpace    = regexp.MustCompile(`[ \t\r\f\v]+`)
	reJASplit  = regexp.MustCompile(`[^。！？\n]*[。！？]?`)
	reENSplit  = regexp.MustCompile(`[^.!?\n]*[.!?]?`)
	reCodeLike = regexp.MustCompile("^[-*#>|`{}\\[\\]$/]|[{};]$|https?://")
)

// loadCorpus reads the sentences of dir (../shared/corpus). It fails with a
// message saying what is missing when the corpus is absent.
func loadCorpus(dir string) (*corpus, error) {
	need := []string{"hatenablog/content/ja", "hatenablog/content/api-docs", "seeds", "aozora/bocchan.txt"}
	for _, n := range need {
		if _, err := os.Stat(filepath.Join(dir, n)); err != nil {
			return nil, fmt.Errorf("%w at %s (missing %s): give its place with -corpus DIR", errNoCorpus, dir, n)
		}
	}
	c := &corpus{}
	err := filepath.WalkDir(filepath.Join(dir, "hatenablog", "content"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		title, body := frontMatter(string(b))
		rel, _ := filepath.Rel(filepath.Join(dir, "hatenablog", "content"), path)
		if strings.HasPrefix(rel, "ja"+string(filepath.Separator)) {
			c.jaTitles = appendNonEmpty(c.jaTitles, title)
			c.ja = append(c.ja, sentences(markupToText(body), reJASplit)...)
		} else {
			c.enTitles = appendNonEmpty(c.enTitles, title)
			c.en = append(c.en, sentences(markupToText(body), reENSplit)...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	seeds, err := filepath.Glob(filepath.Join(dir, "seeds", "*.txt"))
	if err != nil || len(seeds) == 0 {
		return nil, fmt.Errorf("%w at %s: no seeds/*.txt", errNoCorpus, dir)
	}
	for _, path := range seeds {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("corpus: %w", err)
		}
		text := string(b)
		if strings.Contains(path, "-ja") {
			for _, line := range strings.Split(text, "\n") {
				if t, ok := strings.CutPrefix(line, "[VMware] "); ok {
					c.jaTitles = appendNonEmpty(c.jaTitles, strings.TrimSpace(t))
				}
			}
			c.ja = append(c.ja, sentences(text, reJASplit)...)
		} else {
			c.en = append(c.en, sentences(text, reENSplit)...)
			for _, line := range strings.Split(text, "\n") {
				if l := strings.TrimSpace(line); l != "" && len(l) < 60 && !strings.HasSuffix(l, ".") {
					c.enTitles = append(c.enTitles, l)
				}
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "aozora", "bocchan.txt"))
	if err != nil {
		return nil, fmt.Errorf("corpus: %w", err)
	}
	c.ja = append(c.ja, sentences(reRuby.ReplaceAllString(string(b), ""), reJASplit)...)
	if len(c.ja) < 100 || len(c.en) < 100 || len(c.jaTitles) == 0 || len(c.enTitles) == 0 {
		return nil, fmt.Errorf("corpus at %s: only %d Japanese and %d English sentences found", dir, len(c.ja), len(c.en))
	}
	return c, nil
}

// frontMatter splits a Hatena entry into its Title and its body.
func frontMatter(s string) (title, body string) {
	rest, ok := strings.CutPrefix(s, "---\n")
	if !ok {
		return "", s
	}
	head, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		return "", s
	}
	for _, line := range strings.Split(head, "\n") {
		if t, ok := strings.CutPrefix(line, "Title:"); ok {
			title = strings.TrimSpace(t)
		}
	}
	return title, body
}

// markupToText drops HTML tags and Markdown links' targets, keeping words.
func markupToText(s string) string {
	s = reTag.ReplaceAllString(s, "\n")
	s = reMDLink.ReplaceAllString(s, "$1")
	s = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&", "&quot;", `"`, "**", "", "`", "").Replace(s)
	return s
}

// sentences splits text by split and keeps the ones that read like prose.
func sentences(text string, split *regexp.Regexp) []string {
	var out []string
	for _, s := range split.FindAllString(text, -1) {
		s = strings.TrimSpace(reSpace.ReplaceAllString(s, " "))
		s = strings.TrimLeft(s, "　 ")
		n := utf8.RuneCountInString(s)
		if n < 12 || n > 400 || reCodeLike.MatchString(s) {
			continue
		}
		out = append(out, s)
	}
	return out
}

func appendNonEmpty(list []string, s string) []string {
	if s == "" {
		return list
	}
	return append(list, s)
}

// synthPost is one post of the synthetic community.
type synthPost struct {
	ID        string
	Title     string
	Published time.Time
	Paras     []string // paragraphs of plain text
}

// synthesize makes a blog's posts: Japanese (ja) or English, each of about
// size bytes of text, sampled from c with rng.
func (c *corpus) synthesize(rng *rand.Rand, blog, n, size int, ja bool) []synthPost {
	sents, titles := c.en, c.enTitles
	sep := " "
	if ja {
		sents, titles, sep = c.ja, c.jaTitles, ""
	}
	posts := make([]synthPost, n)
	base := time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range posts {
		var paras []string
		var para strings.Builder
		total := 0
		for total < size {
			s := sents[rng.IntN(len(sents))]
			if para.Len() > 0 {
				para.WriteString(sep)
			}
			para.WriteString(s)
			total += len(s)
			if para.Len() > 400 || total >= size {
				paras = append(paras, para.String())
				para.Reset()
			}
		}
		posts[i] = synthPost{
			ID:        fmt.Sprintf("blog%d-post%d", blog, i),
			Title:     fmt.Sprintf("%s (%d)", titles[rng.IntN(len(titles))], i+1),
			Published: base.Add(time.Duration(rng.Int64N(int64(17 * 365 * 24 * time.Hour)))).Truncate(time.Minute),
			Paras:     paras,
		}
	}
	return posts
}

// errNoCorpus tells the test that the corpus is absent.
var errNoCorpus = errors.New("corpus not found")
