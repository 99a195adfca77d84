package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestRemovedFeedLeavesSearch removes a blog from feeds.txt: at the next
// crawl its posts leave search and the merged feed, and purge deletes them.
func TestRemovedFeedLeavesSearch(t *testing.T) {
	b := newBlogs(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := writeFeeds(t, dir, b)
	vplanet := func(args ...string) string {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), append([]string{"vplanet"}, args...), func(string) string { return "" },
			strings.NewReader(""), &stdout, &stderr)
		if err != nil {
			t.Fatalf("vplanet %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		return stdout.String()
	}
	vplanet("crawl", "--data", data, "--feeds", feeds)
	if out := vplanet("search", "--data", data, "Pacifica"); !strings.Contains(out, "VMWorld 2005 Day 3") {
		t.Fatalf("search Pacifica before removal:\n%s", out)
	}
	os.WriteFile(feeds, []byte(b.srv.URL+"/ja/feed ja\n"), 0o644)
	vplanet("crawl", "--data", data, "--feeds", feeds)
	if out := vplanet("search", "--data", data, "Pacifica"); !strings.HasPrefix(out, "0 results") {
		t.Errorf("search Pacifica after the blog left feeds.txt:\n%s", out)
	}
	if out := vplanet("purge", "--data", data); !strings.Contains(out, "purged 1 feeds") || !strings.Contains(out, "1 posts") {
		t.Errorf("purge printed %q", out)
	}
	if out := vplanet("search", "--data", data, "VCHA"); !strings.Contains(out, "VMworld 2017 Europe #4") {
		t.Errorf("search VCHA after purge:\n%s", out)
	}
}

// TestBrokenFeedListKeepsCrawling breaks feeds.txt after a first crawl: the
// next crawl says what is wrong, with the line, and crawls the feeds the
// list had before.
func TestBrokenFeedListKeepsCrawling(t *testing.T) {
	b := newBlogs(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	feeds := writeFeeds(t, dir, b)
	runBinary(t, 0, "crawl", "--data", data, "--feeds", feeds)
	os.WriteFile(feeds, []byte(b.srv.URL+"/ja/feed ja\nftp://old.example/feed\n"), 0o644)
	cmd := exec.Command(binary, "crawl", "--all", "--data", data, "--feeds", feeds)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("crawl with a broken feed list: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "line 2") {
		t.Errorf("crawl's errors %q do not name the broken line", stderr.String())
	}
	if !strings.Contains(stdout.String(), "2 feeds") {
		t.Errorf("crawl printed %q, want both feeds of the last good list crawled", stdout.String())
	}
}

// TestGlossaryFlag adds an operator's glossary: a spelling the built-in
// glossary does not know finds the posts that use another.
func TestGlossaryFlag(t *testing.T) {
	_, feeds := community(t, 2, 3, 0)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	glossary := filepath.Join(dir, "glossary.txt")
	os.WriteFile(glossary, []byte("# our community's words\nZC | zebracorn | 縞馬一角獣\n"), 0o644)
	runBinary(t, 0, "crawl", "--data", data, "--feeds", feeds)
	if out := runBinary(t, 0, "search", "--data", data, "縞馬一角獣"); !strings.HasPrefix(out, "0 results") {
		t.Errorf("without the glossary: %s", out)
	}
	if out := runBinary(t, 0, "search", "--data", data, "--glossary", glossary, "縞馬一角獣"); !strings.HasPrefix(out, "6 results") {
		t.Errorf("with the glossary, 縞馬一角獣 should find the 6 zebracorn posts:\n%s", out)
	}
	if out := runBinary(t, 1, "search", "--data", data, "--glossary", filepath.Join(dir, "missing.txt"), "x"); out != "" {
		t.Errorf("a missing glossary printed %q", out)
	}
}
