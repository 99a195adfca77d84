package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vplanet/crawler"
)

func TestImportOPML(t *testing.T) {
	dir := t.TempDir()
	feeds := filepath.Join(dir, "feeds.txt")
	const before = "# the community's blogs\nhttps://www.yellow-bricks.com/feed/  Yellow Bricks  en  # the first\n"
	os.WriteFile(feeds, []byte(before), 0o640)
	opml := filepath.Join(dir, "subscriptions.opml")
	os.WriteFile(opml, []byte(`<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0"><head><title>My feeds</title></head><body>
<outline text="VMware">
  <outline type="rss" text="Yellow Bricks" xmlUrl="https://www.yellow-bricks.com/feed/"/>
  <outline type="rss" text="vhoge" title="vHoge の技術メモ" xmlUrl="https://vhoge.hateblo.jp/feed" language="ja"/>
  <outline type="rss" text="Cormac Hogan" xmlUrl="https://cormachogan.com/feed/"/>
</outline></body></opml>`), 0o644)

	importOPML := func() string {
		var stdout, stderr bytes.Buffer
		err := run(context.Background(), []string{"vplanet", "import-opml", "--feeds", feeds, opml},
			func(string) string { return "" }, strings.NewReader(""), &stdout, &stderr)
		if err != nil {
			t.Fatalf("import-opml: %v\n%s", err, stderr.String())
		}
		return stdout.String()
	}
	if out := importOPML(); !strings.Contains(out, "added 2 feeds") || !strings.Contains(out, "1 already listed") {
		t.Errorf("import-opml printed %q, want 2 added, 1 already listed", out)
	}
	b, _ := os.ReadFile(feeds)
	if !strings.HasPrefix(string(b), before) {
		t.Errorf("feeds.txt lost what it had:\n%s", b)
	}
	if fi, _ := os.Stat(feeds); fi.Mode().Perm() != 0o640 {
		t.Errorf("feeds.txt mode = %v, want 0640 kept", fi.Mode().Perm())
	}
	srcs, err := crawler.ReadFeedList(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("feeds.txt after import: %v\n%s", err, b)
	}
	var got []string
	for _, s := range srcs {
		got = append(got, s.URL+"|"+s.Name+"|"+s.Lang)
	}
	want := []string{"https://www.yellow-bricks.com/feed/|Yellow Bricks|en", "https://vhoge.hateblo.jp/feed|vHoge の技術メモ|ja", "https://cormachogan.com/feed/|Cormac Hogan|"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("feeds after import:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if out := importOPML(); !strings.Contains(out, "added 0 feeds") {
		t.Errorf("second import printed %q, want nothing added", out)
	}
}
