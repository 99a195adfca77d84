package main

import (
	"bytes"
	"context"
	"os"
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
