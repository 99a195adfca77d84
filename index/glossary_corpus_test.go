package index_test

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"vplanet"
	"vplanet/index"
)

var glossCorpusDir = filepath.Join("..", "..", "shared", "corpus")

var glossSample = flag.String("glossary.sample", "", "spellings, separated by \"|\", whose corpus matches TestGlossaryCorpus shows as well")

// The sources of the corpus check, as blog slugs so that the blog facet
// counts each one.
const (
	srcHatenaJA = "hatena-ja" // a monitoring product's documentation, Japanese
	srcHatenaEN = "hatena-en" // the same, English
	srcSeeds    = "seeds"     // VMware community posts, both languages
	srcNovel    = "novel"     // Botchan: no VMware term belongs in it
)

var glossSources = []string{srcHatenaJA, srcHatenaEN, srcSeeds, srcNovel}

// glossCorpus reads the shared corpus as posts: the Hatena Blog entries
// (front matter off, tags out), the seed blog texts (the Japanese one cut
// at each "[VMware] " title), and the novel in chunks of about 2,000 bytes
// cut at paragraphs, its ruby readings and notes removed so that a word
// is not cut by its reading.
func glossCorpus(t testing.TB) []*vplanet.Post {
	t.Helper()
	if _, err := os.Stat(glossCorpusDir); err != nil {
		t.Skipf("corpus not found at %s", glossCorpusDir)
	}
	var posts []*vplanet.Post
	add := func(src, id, lang, title, text string) {
		posts = append(posts, &vplanet.Post{ID: src + "/" + id, BlogSlug: src, Lang: lang, Title: title, Text: text})
	}

	tag := regexp.MustCompile(`<[^>]*>`)
	root := filepath.Join(glossCorpusDir, "hatenablog", "content")
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		src, lang := srcHatenaEN, "en"
		if strings.HasPrefix(rel, "ja") {
			src, lang = srcHatenaJA, "ja"
		}
		var title string
		var body strings.Builder
		fences := 0
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			if fences < 2 {
				if line == "---" {
					fences++
				} else if v, ok := strings.CutPrefix(line, "Title: "); ok {
					title = v
				}
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		add(src, filepath.ToSlash(rel), lang, title, tag.ReplaceAllString(body.String(), " "))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	seeds := filepath.Join(glossCorpusDir, "seeds")
	en, err := os.ReadFile(filepath.Join(seeds, "vmworld-2005-day3-en.txt"))
	if err != nil {
		t.Fatal(err)
	}
	add(srcSeeds, "vmworld-2005-day3-en", "en", "", string(en))
	ja, err := os.ReadFile(filepath.Join(seeds, "vmworld-2017-europe-ja.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for i, part := range strings.Split(string(ja), "[VMware] ") {
		if strings.TrimSpace(part) == "" {
			continue
		}
		title, body, _ := strings.Cut(part, "\n")
		add(srcSeeds, fmt.Sprintf("vmworld-2017-europe-ja-%d", i), "ja", title, body)
	}

	novel, err := os.ReadFile(filepath.Join(glossCorpusDir, "aozora", "bocchan.txt"))
	if err != nil {
		t.Fatal(err)
	}
	text := regexp.MustCompile(`《[^》]*》|［＃[^］]*］|｜`).ReplaceAllString(string(novel), "")
	var chunk strings.Builder
	for para := range strings.SplitSeq(text, "　") {
		if chunk.Len() > 2000 {
			add(srcNovel, fmt.Sprintf("%03d", len(posts)), "ja", "", chunk.String())
			chunk.Reset()
		}
		chunk.WriteString(para)
		chunk.WriteString("\n")
	}
	add(srcNovel, fmt.Sprintf("%03d", len(posts)), "ja", "", chunk.String())
	return posts
}

// TestGlossaryCorpus is the false-friend check of the glossary: it counts,
// for every spelling of every group, the corpus documents that the spelling
// alone matches (a quoted query, which the glossary leaves as written), per
// source, and prints them with -v. A Japanese spelling that matches the
// novel, or more than a third of the Japanese documentation, is shown with
// samples of its matches, to be read: either it means the same there, or
// it is a false friend and does not belong in its group (-glossary.sample
// shows the matches of any spelling asked for). The novel must
// match nothing: none of its words are VMware's.
func TestGlossaryCorpus(t *testing.T) {
	posts := glossCorpus(t)
	byID := map[string]*vplanet.Post{}
	docs := map[string]int{}
	for _, p := range posts {
		byID[p.ID] = p
		docs[p.BlogSlug]++
	}
	ix := glossIndex(t, posts)
	groups := glossGroups(t)
	asked := map[string]bool{}
	for s := range strings.SplitSeq(*glossSample, "|") {
		asked[strings.TrimSpace(s)] = true
	}

	var (
		lines                 []string
		spellings, found      int
		foundGroups           int
		perSource             = map[string]int{}
		samples, novelMatches []string
		gained                = map[string]int{} // by the language of the documents
	)
	lines = append(lines, fmt.Sprintf("%-44s %9s %9s %6s %6s", "spelling", srcHatenaJA, srcHatenaEN, srcSeeds, srcNovel))
	for _, g := range groups {
		res := glossSearch(t, ix, g.spellings[0])
		if res.Total > 0 {
			foundGroups++
		}
		lines = append(lines, fmt.Sprintf("line %d: the group matches %d documents", g.line, res.Total))
		for _, s := range g.spellings {
			spellings++
			res := glossSearch(t, ix, `"`+s+`"`)
			counts := map[string]int{}
			for _, f := range res.Facets["blog"] {
				counts[f.Value] = f.Count
				perSource[f.Value] += f.Count
			}
			if res.Total > 0 {
				found++
			}
			lines = append(lines, fmt.Sprintf("  %-42s %9d %9d %6d %6d", s, counts[srcHatenaJA], counts[srcHatenaEN], counts[srcSeeds], counts[srcNovel]))
			if counts[srcNovel] > 0 {
				novelMatches = append(novelMatches, s)
			}
			// What the glossary adds: the documents in the other
			// language that the spelling finds unquoted and not quoted.
			other := "ja"
			if japanese(s) {
				other = "en"
			}
			gained[other] += langCount(glossSearch(t, ix, s), other) - langCount(res, other)
			if japanese(s) && (counts[srcNovel] > 0 || counts[srcHatenaJA]*3 > docs[srcHatenaJA]) || asked[s] {
				samples = append(samples, glossSamples(ix, byID, s, 3)...)
			}
		}
	}
	t.Logf("documents: %v", docs)
	t.Logf("spellings matched per source (documents × spellings): %v", perSource)
	t.Logf("%d groups, %d spellings; %d groups and %d spellings match some document", len(groups), spellings, foundGroups, found)
	t.Logf("through the glossary, Japanese spellings find %d more English documents and the others %d more Japanese ones (summed over spellings)", gained["en"], gained["ja"])
	t.Log("per spelling, the documents it matches alone:\n" + strings.Join(lines, "\n"))
	if len(samples) > 0 {
		t.Log("samples of the Japanese spellings to read:\n" + strings.Join(samples, "\n"))
	}
	if len(novelMatches) > 0 {
		t.Errorf("spellings that match the novel, where no VMware term belongs: %q", novelMatches)
	}
}

// langCount returns the hits of res in language lang.
func langCount(res *index.Result, lang string) int {
	for _, f := range res.Facets["lang"] {
		if f.Value == lang {
			return f.Count
		}
	}
	return 0
}

// glossSamples returns up to n snippets of the documents that spelling s
// alone matches.
func glossSamples(ix *index.Index, byID map[string]*vplanet.Post, s string, n int) []string {
	var out []string
	res, err := ix.Search(context.Background(), index.Request{Query: `"` + s + `"`, Limit: n})
	if err != nil {
		return []string{fmt.Sprintf("%s: %v", s, err)}
	}
	for _, h := range res.Hits {
		p := byID[h.ID]
		snip := index.Snippet(p.Text, h.Spans["text"], 120)
		if len(h.Spans["text"]) == 0 {
			snip = index.Snippet(p.Title, h.Spans["title"], 120)
		}
		out = append(out, fmt.Sprintf("  %s in %s: %s", s, h.ID, strings.Join(strings.Fields(snip), " ")))
	}
	return out
}

// japanese reports whether s has a kana or kanji in it.
func japanese(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r >= utf8.RuneSelf && unicode.In(r, unicode.Hiragana, unicode.Katakana, unicode.Han)
	})
}
