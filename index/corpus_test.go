package index

import (
	"bufio"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"vplanet"
)

var corpusDir = filepath.Join("..", "..", "shared", "corpus")

var tagRE = regexp.MustCompile(`<[^>]*>`)

// hatenaPosts reads the Hatena Blog entries of the shared corpus as posts:
// front matter (Title, Date, URL) and a body with its tags removed.
func hatenaPosts(t testing.TB) []*vplanet.Post {
	t.Helper()
	root := filepath.Join(corpusDir, "hatenablog", "content")
	if _, err := os.Stat(root); err != nil {
		t.Skipf("shared corpus not found at %s: it adds breadth to checks that testdata covers", root)
	}
	var posts []*vplanet.Post
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".md") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		p := &vplanet.Post{ID: filepath.ToSlash(rel), Lang: "en", BlogSlug: "mackerel-docs", Visible: true}
		if strings.HasPrefix(rel, "ja") {
			p.Lang = "ja"
		}
		sc := bufio.NewScanner(strings.NewReader(string(b)))
		sc.Buffer(nil, 1<<20)
		var body strings.Builder
		fences := 0
		for sc.Scan() {
			line := sc.Text()
			if fences < 2 {
				if line == "---" {
					fences++
				} else if k, v, ok := strings.Cut(line, ": "); ok {
					switch k {
					case "Title":
						p.Title = v
					case "Date":
						p.Published, _ = time.Parse(time.RFC3339, v)
					case "URL":
						p.URL = v
					}
				}
				continue
			}
			body.WriteString(line)
			body.WriteByte('\n')
		}
		p.Text = tagRE.ReplaceAllString(body.String(), " ")
		p.Seq = int64(len(posts) + 1)
		posts = append(posts, p)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return posts
}

// TestKnownItems searches the corpus for each post's own title and for a
// phrase from the middle of its body: the post must be in the top 10 for
// at least 98% of them.
func TestKnownItems(t *testing.T) {
	posts := hatenaPosts(t)
	if testing.Short() {
		t.Skip("indexes the whole corpus")
	}
	ix := openTest(t, posts...)
	an := analyzer(t)
	found := func(q, id string) bool {
		res, err := ix.Search(context.Background(), Request{Query: q, Limit: 10})
		if err != nil {
			t.Errorf("%s: %q: %v", id, q, err)
			return false
		}
		return slices.ContainsFunc(res.Hits, func(h Hit) bool { return h.ID == id })
	}
	df := map[string]int{}
	for _, p := range posts {
		seen := map[string]bool{}
		for _, tok := range an.Analyze(p.Text) {
			if !seen[tok.Term] {
				seen[tok.Term] = true
				df[tok.Term]++
			}
		}
	}
	var titles, phrases, tried int
	for _, p := range posts {
		if found(p.Title, p.ID) {
			titles++
		} else {
			t.Logf("title not in top 10: %s %q", p.ID, p.Title)
		}
		q := bodyPhrase(an, df, p.Text)
		if q == "" {
			continue
		}
		tried++
		if found(q, p.ID) {
			phrases++
		} else {
			t.Logf("phrase not in top 10: %s %s", p.ID, q)
		}
	}
	t.Logf("%d posts: titles %d found, phrases %d of %d found", len(posts), titles, phrases, tried)
	if len(posts) < 400 {
		t.Errorf("read %d posts, want the corpus's 426", len(posts))
	}
	if got := float64(titles) / float64(len(posts)); got < 0.98 {
		t.Errorf("titles found: got %.3f, want ≥ 0.98", got)
	}
	if got := float64(phrases) / float64(tried); got < 0.98 || tried < len(posts)*9/10 {
		t.Errorf("phrases found: got %.3f of %d, want ≥ 0.98 of ≥ 90%% of posts", got, tried)
	}
}

// bodyPhrase picks five consecutive words of text, looking from its middle,
// cut on token boundaries, holding a word that at most three posts use, as
// a quoted phrase.
func bodyPhrase(an *textAnalyzer, df map[string]int, text string) string {
	toks := an.Analyze(text)
	for k := range len(toks) {
		i := (len(toks)/2 + k) % len(toks)
		if i < 1 || i+8 >= len(toks) {
			continue
		}
		first, last := toks[i], toks[i+4]
		if last.Position-first.Position != 4 || toks[i-1].Position == first.Position {
			continue
		}
		rare := false
		for _, tok := range toks[i : i+5] {
			rare = rare || df[tok.Term] <= 3
		}
		s := text[first.Start:last.End]
		if !rare || strings.ContainsAny(s, "\"“”\n") || len(s) > 200 {
			continue
		}
		return `"` + s + `"`
	}
	return ""
}

// seedPosts reads the seed blogs: the Japanese file holds several posts,
// each starting with a line "[VMware] title"; the English file is one post
// whose first line is its title. IDs are the titles with plain spaces (the
// titles have no-break spaces).
func seedPosts(t testing.TB) []*vplanet.Post {
	t.Helper()
	dir := filepath.Join(corpusDir, "seeds")
	ja, err := os.ReadFile(filepath.Join(dir, "vmworld-2017-europe-ja.txt"))
	if err != nil {
		t.Skipf("corpus not found at %s", dir)
	}
	en, err := os.ReadFile(filepath.Join(dir, "vmworld-2005-day3-en.txt"))
	if err != nil {
		t.Skipf("corpus not found at %s", dir)
	}
	var posts []*vplanet.Post
	for _, chunk := range strings.Split(string(ja), "[VMware] ")[1:] {
		title, text, _ := strings.Cut(chunk, "\n")
		title = strings.TrimSpace(title)
		posts = append(posts, &vplanet.Post{ID: strings.Join(strings.Fields(title), " "), Title: title, Text: text, Lang: "ja", Visible: true, Seq: int64(len(posts) + 1)})
	}
	title, text, _ := strings.Cut(string(en), "\n")
	title = strings.TrimSpace(title)
	posts = append(posts, &vplanet.Post{ID: strings.Join(strings.Fields(title), " "), Title: title, Text: text, Lang: "en", Visible: true, Seq: int64(len(posts) + 1)})
	return posts
}

// TestSeedQueries checks the searches the project was started for.
func TestSeedQueries(t *testing.T) {
	ix := openTest(t, seedPosts(t)...)
	for _, tc := range []struct {
		q     string
		first string
	}{
		{"VCHA", "VMworld 2017 Europe #4"},
		{"重複排除", "VMworld 2017 Europe #5"},
		{"拡張クラスタ", "VMworld 2017 Europe #2"},
		{"ESX", "VMWorld 2005 Day 3"},
		{"vExpert 応募", "vExpert 2017 後半応募開始"},
	} {
		t.Run(tc.q, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tc.q})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) == 0 || res.Hits[0].ID != tc.first {
				t.Fatalf("got %v, want %q first", res.Hits, tc.first)
			}
			var text string
			for _, p := range seedPosts(t) {
				if p.ID == tc.first {
					text = p.Text
				}
			}
			if s := Snippet(text, res.Hits[0].Spans["text"], 120); !strings.Contains(s, "<mark>") {
				t.Errorf("snippet has no match: %s", s)
			}
		})
	}
}
