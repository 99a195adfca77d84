package crawler

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestScanShape(t *testing.T) {
	nested := func(n int) string {
		return `<rss version="2.0"><channel><item>` + strings.Repeat("<x>", n) + strings.Repeat("</x>", n) + `</item></channel></rss>`
	}
	tests := []struct {
		name, doc string
		err       string // "" for none
	}{
		{"nested within the bound", nested(maxDepth - 3), ""},
		{"nested past the bound", nested(maxDepth), "deeper than 256"},
		{"self-closing elements do not nest", `<feed>` + strings.Repeat("<x/>", 1000) + `</feed>`, ""},
		{"too many elements", `<feed>` + strings.Repeat("<x/>", maxElements) + `</feed>`, "more than 250000 elements"},
		{"prefixed RDF root", `<rdf:RDF>` + strings.Repeat("<x>", maxDepth+1), "deeper than"},
		{"Atom root in upper case", `<FEED>` + strings.Repeat("<x>", maxDepth+1), "deeper than"},
		// gofeed does not parse an HTML page, whose <p> and <br> need no
		// end tag: it is not bounded.
		{"HTML page", `<!DOCTYPE html><html><body>` + strings.Repeat("<p>para<br>", 5000) + `</body></html>`, ""},
		{"markup in comments, CDATA, PIs and the DOCTYPE does not count",
			`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "<a><a>"> <!-- > -->]><rss><!--` + strings.Repeat("<a>", 500) + `--><![CDATA[` +
				strings.Repeat("<a>", 500) + `]]><?pi <a><a> ?></rss>`, ""},
		{"'>' and '/' in attribute values", `<feed>` + strings.Repeat(`<x a="/>" b='>'>`, 10) + strings.Repeat("</x>", 10) + `</feed>`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := scanShape([]byte(tt.doc))
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("got %v, want no error", err)
			case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
				t.Errorf("got %v, want an error saying %q", err, tt.err)
			}
		})
	}
	// Every feed the tests crawl passes.
	files, _ := filepath.Glob(filepath.Join("testdata", "*.*"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		text, _ := decode(b, "")
		if sh, err := scanShape(text); err != nil || sh.kept != nil {
			t.Errorf("%s: %v, cut: %v", f, err, sh.kept != nil)
		}
	}
}

// nestedFeed is the attack: an RSS feed whose one item holds n nested
// elements, 14 MB for 2,000,000.
func nestedFeed(n int) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<rss version="2.0"><channel><title>Deep</title><link>https://deep.example/</link><item><title>deep</title><link>https://deep.example/1</link>`)
	for range n {
		b.WriteString("<a>")
	}
	for range n {
		b.WriteString("</a>")
	}
	b.WriteString(`</item></channel></rss>`)
	return b.Bytes()
}

// heapDuring runs f and returns the bytes it allocated in all (an upper
// bound of how much it grew the heap) and the most the live heap grew
// above where it started, sampled every 200µs.
func heapDuring(f func()) (allocated, peak uint64) {
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	var top atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		for {
			select {
			case <-stop:
				return
			case <-time.After(200 * time.Microsecond):
			}
			runtime.ReadMemStats(&m)
			if m.HeapAlloc > before.HeapAlloc && m.HeapAlloc-before.HeapAlloc > top.Load() {
				top.Store(m.HeapAlloc - before.HeapAlloc)
			}
		}
	}()
	f()
	close(stop)
	<-done
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc, top.Load()
}

// TestNestedFeedMemory parses the attack and checks what it cost. The
// bound is on the bytes allocated in all, which no sampling can miss: the
// live heap cannot have grown by more. The sampled peak is logged beside it.
func TestNestedFeedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 14 MB feed")
	}
	body := nestedFeed(2_000_000)
	n := newNormalizer()
	var err error
	allocated, peak := heapDuring(func() {
		_, err = n.parse(body, "application/rss+xml", "https://deep.example/feed", "", testNow)
	})
	t.Logf("%d-byte feed of 2,000,000 nested elements: %.1f MiB allocated while parsing, live heap peak +%.1f MiB (sampled)",
		len(body), float64(allocated)/(1<<20), float64(peak)/(1<<20))
	var se *shapeError
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "the feed nests elements deeper than 256") {
		t.Fatalf("err = %v, want the feed refused for nesting too deep", err)
	}
	// decode copies the body once to rewrite its prolog; beyond that, a
	// few MiB.
	if limit := uint64(len(body)) + 4<<20; allocated > limit {
		t.Errorf("parsing allocated %.1f MiB, want at most the feed's size and 4 MiB (%.1f MiB)",
			float64(allocated)/(1<<20), float64(limit)/(1<<20))
	}
}

// BenchmarkScanShape measures the scan on a realistic 20-post feed: it
// runs on every feed fetched.
func BenchmarkScanShape(b *testing.B) {
	body := benchFeed(b, 20)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := scanShape(body); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzScanShape compares the scan with encoding/xml's tokenizer, an
// independent reader of the same markup, on every input the tokenizer
// reads without error: with small bounds, both must agree on whether the
// document is too deep or too large, and a document cut after its second
// item must still read without error and hold two items.
func FuzzScanShape(f *testing.F) {
	for _, doc := range []string{
		`<rss><channel><item><title>x</title></item></channel></rss>`,
		`<feed><entry><content type="xhtml"><div><p><b>x</b></p></div></content></entry></feed>`,
		`<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x "y">]><rss><!-- <a> --><![CDATA[<a>]]><a/><a b="/>"/></rss>`,
		`<rdf:RDF><a><a><a><a></a></a></a></a></rdf:RDF>`,
		`<html><p><p><p><p>`,
	} {
		f.Add([]byte(doc))
	}
	for _, name := range []string{"rss2.xml", "atom.xml", "rss1.rdf", "hostile.xml", "bomb.xml"} {
		f.Add(mustRead(f, name))
	}
	f.Add([]byte(`<rss><channel><title>t</title><item>1</item><item><a/>2</item><item>3</item></channel></rss>`))
	f.Add([]byte(`<feed xmlns="http://www.w3.org/2005/Atom"><entry/><entry><id>2</id></entry><entry/></feed>`))
	const depth, elements = 4, 12
	f.Fuzz(func(t *testing.T, doc []byte) {
		_, got := scanShapeWithin(doc, depth, elements, 1<<30)
		want, ok := xmlShape(doc, depth, elements)
		if !ok {
			return
		}
		if (got == nil) != (want == "") || got != nil && !strings.Contains(got.Error(), want) {
			t.Errorf("scanShape: %v; encoding/xml: %q", got, want)
		}
		sh, err := scanShapeWithin(doc, 1<<30, 1<<30, 2)
		if _, whole := xmlShape(doc, 1<<30, 1<<30); err != nil || sh.kept == nil || !whole {
			return
		}
		if _, ok := xmlShape(sh.kept, 1<<30, 1<<30); !ok {
			t.Errorf("the cut document does not read: %q", sh.kept)
		}
		if again, _ := scanShapeWithin(sh.kept, 1<<30, 1<<30, 1<<30); again.items != 2 {
			t.Errorf("the cut document holds %d items, want 2: %q", again.items, sh.kept)
		}
	})
}

// xmlShape is the oracle: the same verdict, read with encoding/xml. ok is
// false when the tokenizer cannot read the whole document.
func xmlShape(doc []byte, maxDepth, maxElements int) (verdict string, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, elements, root := 0, 0, false
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			return "", true
		}
		if err != nil {
			return "", false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !root {
				root = true
				name := strings.ToLower(t.Name.Local)
				if name != "rss" && name != "rdf" && name != "feed" {
					// Read on, for the whole document must be readable.
					maxDepth, maxElements = 1<<30, 1<<30
				}
			}
			elements++
			depth++
			if elements > maxElements {
				return "elements", true
			}
			if depth > maxDepth {
				return "deeper", true
			}
		case xml.EndElement:
			depth--
		}
	}
}
