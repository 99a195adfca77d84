package index

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSnippet(t *testing.T) {
	long := strings.Repeat("前置き。", 50) + "ここでＶＣＨＡを構成します。" + strings.Repeat("後書き。", 50)
	at := strings.Index(long, "ＶＣＨＡ")
	cluster := strings.Repeat("x ", 100) + "vsan a vsan b vsan" + strings.Repeat(" y", 100)
	var clusterSpans []Span
	for i := 0; ; {
		j := strings.Index(cluster[i:], "vsan")
		if j < 0 {
			break
		}
		clusterSpans = append(clusterSpans, Span{i + j, i + j + 4})
		i += j + 4
	}
	lone := "vsan " + strings.Repeat("z ", 100)
	// Cuts that fall inside Latin words move to the words' edges.
	drs := "Distributed Resource Management for ESX hosts balances the load of virtual machines across a cluster automatically"
	drsAt := strings.Index(drs, "ESX")
	longWord := strings.Repeat("a", 40) + " NSX-T " + strings.Repeat("b", 40)
	nsxAt := strings.Index(longWord, "NSX-T")
	ja := "これは長い前置きの文章です、そして本題に入る前の説明が続きます。ここでＶＣＨＡを構成しますが、その前に確認することがいくつかあります。"
	jaAt := strings.Index(ja, "ＶＣＨＡ")
	for _, tc := range []struct {
		name  string
		text  string
		spans []Span
		size  int
		want  string
	}{
		{"short text whole", "a <b> & c", []Span{{3, 4}}, 50, "a &lt;<mark>b</mark>&gt; &amp; c"},
		{"no spans: start", strings.Repeat("あ", 30), nil, 10, strings.Repeat("あ", 10) + "…"},
		{"window around match", long, []Span{{at, at + len("ＶＣＨＡ")}}, 20,
			"…前置き。ここで<mark>ＶＣＨＡ</mark>を構成します。後書き。…"},
		{"white space collapsed", "a\n\n\tb   c", nil, 50, "a b c"},
		{"most matches win", lone + cluster, append([]Span{{0, 4}}, shift(clusterSpans, len(lone))...), 30,
			"…x x <mark>vsan</mark> a <mark>vsan</mark> b <mark>vsan</mark> y y y y…"},
		{"latin start and end on word boundaries", drs, []Span{{drsAt, drsAt + 3}}, 40,
			"…Management for <mark>ESX</mark> hosts balances the load of…"},
		{"latin long words skipped, not cut", longWord, []Span{{nsxAt, nsxAt + 5}}, 20,
			"…<mark>NSX-T</mark>…"},
		{"japanese cut after punctuation", ja, []Span{{jaAt, jaAt + len("ＶＣＨＡ")}}, 24,
			"…ここで<mark>ＶＣＨＡ</mark>を構成しますが、その前に確認…"},
		{"span inside a character widened", "あいう", []Span{{1, 2}}, 10, "<mark>あ</mark>いう"},
		{"span out of range", "abc", []Span{{2, 99}, {-5, 1}}, 10, "<mark>a</mark>b<mark>c</mark>"},
		{"overlapping spans merged", "vsphere7.0", []Span{{0, 10}, {0, 7}, {7, 10}}, 10, "<mark>vsphere7.0</mark>"},
		{"invalid utf-8", "a\xffb", []Span{{1, 2}}, 10, "a<mark>\uFFFD</mark>b"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Snippet(tc.text, tc.spans, tc.size)
			if got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
		})
	}
}

func shift(s []Span, by int) []Span {
	out := make([]Span, len(s))
	for i, sp := range s {
		out[i] = Span{sp.Start + by, sp.End + by}
	}
	return out
}

func TestHighlight(t *testing.T) {
	got := Highlight(`"VCHA" と 'HA'`, []Span{{1, 5}, {12, 14}})
	if want := `&#34;<mark>VCHA</mark>&#34; と &#39;<mark>HA</mark>&#39;`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

func FuzzSnippet(f *testing.F) {
	f.Add("今日はＶＣＨＡの構成を試しました。", 9, 21, 10)
	f.Add("a\xffb<c>", 0, 3, 2)
	f.Add("", 0, 0, 0)
	f.Fuzz(func(t *testing.T, text string, start, end, size int) {
		size %= 1000
		out := Snippet(text, []Span{{start, end}, {end, start}, {start / 2, end * 2}}, size)
		if !utf8.ValidString(out) {
			t.Fatalf("Snippet(%q) = %q: not valid UTF-8", text, out)
		}
		if strings.Count(out, "<mark>") != strings.Count(out, "</mark>") {
			t.Fatalf("Snippet(%q) = %q: unbalanced marks", text, out)
		}
		h := Highlight(text, []Span{{start, end}})
		if !utf8.ValidString(h) || strings.ContainsAny(strings.NewReplacer("<mark>", "", "</mark>", "").Replace(h), "<>") {
			t.Fatalf("Highlight(%q) = %q", text, h)
		}
	})
}

// BenchmarkSnippet cuts snippets from a post of about 3 KB of Japanese
// text, as a page of search hits does ten times.
func BenchmarkSnippet(b *testing.B) {
	text := benchText(b, "ja")
	start := strings.Index(text, "。") + len("。")
	end := start + 3000
	for !utf8.RuneStart(text[end]) {
		end--
	}
	post := text[start:end]
	word := func(at int) Span {
		for !utf8.RuneStart(post[at]) {
			at++
		}
		_, n := utf8.DecodeRuneInString(post[at:])
		_, m := utf8.DecodeRuneInString(post[at+n:])
		return Span{at, at + n + m}
	}
	for _, bc := range []struct {
		name  string
		spans []Span
	}{
		{"no-match", nil},
		{"near-start", []Span{word(60)}},
		{"spread", []Span{word(400), word(1500), word(1530), word(2900)}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(post)))
			for b.Loop() {
				Snippet(post, bc.spans, 160)
			}
		})
	}
}
