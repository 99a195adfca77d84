package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// corpusDir is the shared test corpus beside the project. Tests that read it
// add breadth and skip where it is absent; the core runs on testdata.
var corpusDir = filepath.Join("..", "..", "..", "shared", "corpus")

// seedPost is one post of the seed blogs.
type seedPost struct {
	ID        string
	Title     string
	Body      []string // paragraphs
	Published time.Time
}

// readSeeds reads the seed blogs committed under testdata/seeds: a Japanese
// vExpert's VMworld 2017 Europe reports, one post per "[VMware] " line,
// newest first, and an English VMworld 2005 Day 3 report.
func readSeeds(t testing.TB) (ja, en []seedPost) {
	t.Helper()
	ja, en, err := parseSeeds(filepath.Join("testdata", "seeds"))
	if err != nil {
		t.Fatalf("seed blogs: %v", err)
	}
	return ja, en
}

// readCorpusSeeds reads the seed corpus the project started from, in the
// same shape, and skips the test where it is absent.
func readCorpusSeeds(t testing.TB) (ja, en []seedPost) {
	t.Helper()
	ja, en, err := parseSeeds(filepath.Join(corpusDir, "seeds"))
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("seed corpus not found (%v): it lives in ../shared/corpus beside the project", err)
	}
	if err != nil {
		t.Fatalf("seed corpus: %v", err)
	}
	return ja, en
}

// parseSeeds reads dir's two seed texts. The texts carry no dates; the posts
// get one a day, newest first, as the blog published them.
func parseSeeds(dir string) (ja, en []seedPost, err error) {
	jaText, err := os.ReadFile(filepath.Join(dir, "vmworld-2017-europe-ja.txt"))
	if err != nil {
		return nil, nil, err
	}
	enText, err := os.ReadFile(filepath.Join(dir, "vmworld-2005-day3-en.txt"))
	if err != nil {
		return nil, nil, err
	}
	day := time.Date(2017, 9, 15, 9, 0, 0, 0, time.UTC)
	for _, line := range strings.Split(string(jaText), "\n") {
		if title, ok := strings.CutPrefix(line, "[VMware] "); ok {
			ja = append(ja, seedPost{ID: fmt.Sprintf("ja-%d", len(ja)+1), Title: strings.TrimSpace(title), Published: day})
			day = day.Add(-24 * time.Hour)
			continue
		}
		if line = strings.TrimSpace(line); line != "" && len(ja) > 0 {
			ja[len(ja)-1].Body = append(ja[len(ja)-1].Body, line)
		}
	}
	lines := strings.Split(strings.TrimSpace(string(enText)), "\n")
	en = []seedPost{{ID: "en-1", Title: strings.TrimSpace(lines[0]), Published: time.Date(2005, 10, 20, 18, 0, 0, 0, time.UTC)}}
	for _, line := range lines[1:] {
		if line = strings.TrimSpace(line); line != "" {
			en[0].Body = append(en[0].Body, line)
		}
	}
	if len(ja) == 0 {
		return nil, nil, fmt.Errorf("%s: no [VMware] posts", dir)
	}
	return ja, en, nil
}

func (p seedPost) html() string {
	var b strings.Builder
	for _, para := range p.Body {
		b.WriteString("<p>" + html.EscapeString(para) + "</p>\n")
	}
	return b.String()
}

// rss renders posts as an RSS 2.0 feed, as a Hatena blog would.
func rss(base string, posts []seedPost) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<rss version="2.0"><channel><title>vExpert の VMware ブログ</title><link>` + base + `/ja/</link><language>ja</language>` + "\n")
	for _, p := range posts {
		fmt.Fprintf(&b, "<item><title>%s</title><link>%s/ja/%s</link><guid>%s/ja/%s</guid><pubDate>%s</pubDate><description>%s</description></item>\n",
			xmlEscape(p.Title), base, p.ID, base, p.ID, p.Published.Format(time.RFC1123Z), xmlEscape(p.html()))
	}
	b.WriteString("</channel></rss>\n")
	return b.Bytes()
}

// atom renders posts as an Atom 1.0 feed.
func atom(base string, posts []seedPost) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<feed xmlns="http://www.w3.org/2005/Atom"><title>A VMware admin's notes</title><id>` + base + `/en/</id><updated>2005-10-20T18:00:00Z</updated><link href="` + base + `/en/"/>` + "\n")
	for _, p := range posts {
		fmt.Fprintf(&b, "<entry><title>%s</title><id>%s/en/%s</id><link href=\"%s/en/%s\"/><updated>%s</updated><author><name>Admin</name></author><content type=\"html\">%s</content></entry>\n",
			xmlEscape(p.Title), base, p.ID, base, p.ID, p.Published.Format(time.RFC3339), xmlEscape(p.html()))
	}
	b.WriteString("</feed>\n")
	return b.Bytes()
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	xml.EscapeText(&b, []byte(s))
	return b.String()
}

// syncBuffer is a bytes.Buffer safe for the logs of a server running in the
// test's process.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestSeedCorpusSearch crawls the seed corpus the project started from and
// finds in it what its users search for: the same words the committed seed
// blogs hold, in the original, longer posts.
func TestSeedCorpusSearch(t *testing.T) {
	ja, en := readCorpusSeeds(t)
	b := serveBlogs(t, ja, en)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := filepath.Join(dir, "feeds.txt")
	list := b.srv.URL + "/ja/feed ja\n" + b.srv.URL + "/en/atom.xml en\n"
	if err := os.WriteFile(feeds, []byte(list), 0o644); err != nil {
		t.Fatal(err)
	}
	runBinary(t, 0, "crawl", "--data", data, "--feeds", feeds)
	tests := []struct{ query, want string }{
		{"VCHA", "VMworld 2017 Europe #4"},
		{"重複排除", "VMworld 2017 Europe #5"},
		{"ESX", "VMWorld 2005 Day 3"},
		{"拡張クラスタ", "VMworld 2017 Europe #5"},
		{"Pacifica", "VMWorld 2005 Day 3"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			out := runBinary(t, 0, "search", "--data", data, tt.query)
			if !strings.Contains(out, tt.want) {
				t.Errorf("vplanet search %s:\n%s\nwant %q among the hits", tt.query, out, tt.want)
			}
		})
	}
}
