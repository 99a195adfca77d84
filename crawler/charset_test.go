package crawler

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"vplanet"
)

// The feeds under testdata/charset are one Japanese blog, written as FC2
// writes RSS 1.0, and one French blog, written as a WordPress 2.9 install
// in ISO-8859-1 writes RSS 2.0, without their XML prolog (the test adds
// each prolog). The .utf-8 files are the source; the others were made from
// them with GNU iconv (iconv -f UTF-8 -t SHIFT_JIS, EUC-JP, ISO-2022-JP,
// WINDOWS-1252), an encoder independent of the decoder under test, so the
// source text is the oracle for what the crawler must store.

// charsetBody is one feed's body in one encoding, and what it must read as.
type charsetBody struct {
	file, label      string // the bytes, and their charset's name
	feedTitle, title string
	text             string // the start of the post's text
	japanese         bool
}

var charsetBodies = []charsetBody{
	{"ja.utf-8.rdf", "UTF-8", "仮想化の検証ノート", "拡張クラスタを構成してみた", "監視ホストを第三のサイトに置き", true},
	{"ja.shift_jis.rdf", "Shift_JIS", "仮想化の検証ノート", "拡張クラスタを構成してみた", "監視ホストを第三のサイトに置き", true},
	{"ja.euc-jp.rdf", "EUC-JP", "仮想化の検証ノート", "拡張クラスタを構成してみた", "監視ホストを第三のサイトに置き", true},
	{"ja.iso-2022-jp.rdf", "ISO-2022-JP", "仮想化の検証ノート", "拡張クラスタを構成してみた", "監視ホストを第三のサイトに置き", true},
	{"latin.windows-1252.xml", "windows-1252", "Le café du réseau", "Déployer NSX à moindre coût — retour d’expérience", "Prévoir 2 000 € de matériel : « ça coûte", false},
	{"latin.utf-8.xml", "UTF-8", "Le café du réseau", "Déployer NSX à moindre coût — retour d’expérience", "Prévoir 2 000 € de matériel : « ça coûte", false},
}

// charsetCase is one way a server may send a body.
type charsetCase struct {
	name, contentType string
	body              []byte
	want              charsetBody
}

// charsetCases crosses every body with every header (none, UTF-8 as
// http.FileServer says, its own charset, a server's ISO-8859-1 default),
// with and without a UTF-8 byte order mark, and every prolog (none, one
// saying UTF-8 as a copied template does, its own charset).
func charsetCases(t *testing.T) []charsetCase {
	var cases []charsetCase
	for _, b := range charsetBodies {
		raw := mustRead(t, "charset/"+b.file)
		for _, header := range []string{"", "utf-8", b.label, "ISO-8859-1"} {
			for _, bom := range []bool{false, true} {
				for _, prolog := range []string{"", "UTF-8", b.label} {
					name := fmt.Sprintf("%s/header=%s/bom=%v/prolog=%s", b.file, orNone(header), bom, orNone(prolog))
					var body []byte
					if bom {
						body = append(body, 0xEF, 0xBB, 0xBF)
					}
					if prolog != "" {
						body = append(body, fmt.Sprintf(`<?xml version="1.0" encoding="%s"?>`+"\n", prolog)...)
					}
					body = append(body, bytes.ReplaceAll(raw, []byte("CASE"), []byte(fmt.Sprintf("c%d", len(cases))))...)
					ct := "application/rss+xml"
					if header != "" {
						ct = "text/xml; charset=" + header
					}
					cases = append(cases, charsetCase{name: name, contentType: ct, body: body, want: b})
				}
			}
		}
	}
	return cases
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// TestCharsetEvidence serves every combination from a real server and
// crawls them all into a real store.
func TestCharsetEvidence(t *testing.T) {
	cases := charsetCases(t)
	mux := http.NewServeMux()
	for i, c := range cases {
		mux.HandleFunc(fmt.Sprintf("/c%d", i), func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", c.contentType)
			w.Write(c.body)
		})
	}
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	db := openStore(t)
	urls := make([]string, len(cases))
	for i := range cases {
		urls[i] = fmt.Sprintf("%s/c%d", srv.URL, i)
	}
	syncFeeds(t, db, urls...)
	c := New(db, Options{Logger: testLogger(t), SkipPages: true})
	if sum, err := c.Run(context.Background(), RunOptions{All: true}); err != nil || sum.OK != len(cases) {
		t.Errorf("run: %s, %v; want all %d ok", sum, err, len(cases))
	}
	feeds := feedsByURL(t, db)
	posts, err := db.RecentPosts(context.Background(), vplanet.PostFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	byFeed := map[int64]*vplanet.Post{}
	for _, p := range posts {
		byFeed[p.FeedID] = p
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := feeds[urls[i]]
			if f.Status != vplanet.StatusOK {
				t.Fatalf("status %q: %s", f.Status, f.LastError)
			}
			if f.Title != tc.want.feedTitle {
				t.Errorf("feed title: got %q, want %q", f.Title, tc.want.feedTitle)
			}
			p := byFeed[f.ID]
			if p == nil {
				t.Fatalf("no post stored")
			}
			if p.Title != tc.want.title {
				t.Errorf("post title: got %q, want %q", p.Title, tc.want.title)
			}
			if !strings.HasPrefix(p.Text, tc.want.text) {
				t.Errorf("post text: got %q, want it to start %q", p.Text, tc.want.text)
			}
			if tc.want.japanese && p.Lang != "ja" {
				t.Errorf("lang: got %q, want ja", p.Lang)
			}
		})
	}
}

// TestDecodeStrayBytes: one invalid byte in a feed declared UTF-8 is one
// U+FFFD, not a reason to read the whole feed as windows-1252.
func TestDecodeStrayBytes(t *testing.T) {
	raw := mustRead(t, "charset/ja.utf-8.rdf")
	i := bytes.Index(raw, []byte("重複排除"))
	var body []byte
	body = append(body, `<?xml version="1.0" encoding="UTF-8"?>`...)
	body = append(body, raw[:i]...)
	body = append(body, 0xFF) // one stray byte, as a truncated copy and paste leaves
	body = append(body, raw[i:]...)
	for _, ct := range []string{"application/rss+xml; charset=UTF-8", "application/rss+xml"} {
		t.Run(ct, func(t *testing.T) {
			p, err := newNormalizer().parse(body, ct, "http://vhoge.blog.example/index.rdf", "", testNow)
			if err != nil {
				t.Fatal(err)
			}
			if p.Title != "仮想化の検証ノート" {
				t.Errorf("feed title: got %q, want 仮想化の検証ノート", p.Title)
			}
			if len(p.Posts) != 1 {
				t.Fatalf("posts: got %d, want 1", len(p.Posts))
			}
			if got, want := p.Posts[0].Text, "一つのクラスタを作りました。\uFFFD重複排除と圧縮も有効にしています。"; !strings.HasSuffix(got, want) {
				t.Errorf("text: got %q, want it to end %q", got, want)
			}
			if !utf8.ValidString(p.Posts[0].Text) || p.Posts[0].Lang != "ja" {
				t.Errorf("text valid UTF-8: %v, lang %q; want true, ja", utf8.ValidString(p.Posts[0].Text), p.Posts[0].Lang)
			}
		})
	}
}
