package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode"

	"vplanet/index"
)

// query is one query of the mixed set, as vplanet and as Groonga ask it.
type query struct {
	kind    string
	q       string // vplanet's query language
	sort    string // "" or "date"
	gQuery  string // Groonga's query syntax on title||text
	gFilter string
}

// queries is the mixed set: Japanese and English terms, compounds, phrases,
// exclusions, OR, and filters, over words the corpus holds.
var queries = []query{
	{kind: "ja term", q: "監視", gQuery: "監視"},
	{kind: "ja term", q: "ホスト", gQuery: "ホスト"},
	{kind: "ja compound", q: "拡張クラスタ", gQuery: "拡張クラスタ"},
	{kind: "ja compound", q: "重複排除", gQuery: "重複排除"},
	{kind: "ja novel", q: "無鉄砲", gQuery: "無鉄砲"},
	{kind: "product", q: "VCHA", gQuery: "VCHA"},
	{kind: "en term", q: "metric", gQuery: "metric"},
	{kind: "en words", q: "virtual machines", gQuery: "virtual machines"},
	{kind: "phrase", q: `"monitoring rules"`, gQuery: `"monitoring rules"`},
	{kind: "mixed", q: "エージェント API", gQuery: "エージェント API"},
	{kind: "exclude", q: "alert -graph", gQuery: "alert -graph"},
	{kind: "or", q: "ESX OR vSphere", gQuery: "ESX OR vSphere"},
	{kind: "filter lang", q: "メトリック lang:ja", gQuery: "メトリック", gFilter: `lang == "ja"`},
	{kind: "filter date", q: "host lang:en after:2015-01-01 before:2020-12-31", gQuery: "host",
		gFilter: `lang == "en" && published >= "2015-01-01 00:00:00" && published < "2021-01-01 00:00:00"`},
	{kind: "sort date", q: "プラグイン", sort: "date", gQuery: "プラグイン"},
	{kind: "filter year", q: "学校 before:2016-12-31", gQuery: "学校", gFilter: `published < "2017-01-01 00:00:00"`},
}

// urlsOf returns the addresses of qs on base, made by url
// (query.vplanetURL or query.groongaURL).
func urlsOf(qs []query, base string, url func(query, string) string) []string {
	out := make([]string, len(qs))
	for i, q := range qs {
		out[i] = url(q, base)
	}
	return out
}

// vplanetURL is the /api/search address of q on base.
func (q query) vplanetURL(base string) string {
	v := url.Values{"q": {q.q}, "limit": {"10"}}
	if q.sort != "" {
		v.Set("sort", q.sort)
	}
	return base + "/api/search?" + v.Encode()
}

// groongaURL is the same search as a Groonga select: ten hits with an HTML
// snippet, drilled down by blog and language as vplanet's facets are.
func (q query) groongaURL(base string) string {
	v := url.Values{
		"table":          {"Posts"},
		"match_columns":  {"title||text"},
		"query":          {q.gQuery},
		"output_columns": {"_key,title,url,snippet_html(text)"},
		"drilldown":      {"blog,lang"},
		"limit":          {"10"},
	}
	if q.gFilter != "" {
		v.Set("filter", q.gFilter)
	}
	if q.sort == "date" {
		v.Set("sortby", "-published")
	}
	return base + "/d/select?" + v.Encode()
}

// latency holds sorted request durations.
type latency []time.Duration

func (l latency) pct(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	i := int(p / 100 * float64(len(l)-1))
	return l[i]
}

// get fetches u, discarding the body, and fails on a status other than want.
func get(ctx context.Context, c *http.Client, u string, hdr http.Header, want int) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	for k, v := range hdr {
		req.Header[k] = v
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != want {
		return fmt.Errorf("GET %s: %s, want %d", u, resp.Status, want)
	}
	return nil
}

// sequential asks urls in turn, n requests in all, one at a time, and
// returns their latencies sorted, over all and per URL.
func sequential(ctx context.Context, c *http.Client, urls []string, n int) (latency, []latency, error) {
	lat := make(latency, 0, n)
	per := make([]latency, len(urls))
	for i := range n {
		start := time.Now()
		if err := get(ctx, c, urls[i%len(urls)], nil, http.StatusOK); err != nil {
			return nil, nil, err
		}
		d := time.Since(start)
		lat = append(lat, d)
		per[i%len(urls)] = append(per[i%len(urls)], d)
	}
	slices.Sort(lat)
	for _, l := range per {
		slices.Sort(l)
	}
	return lat, per, nil
}

// concurrent runs clients loops asking urls for d and returns requests per
// second; any failed request fails the run.
func concurrent(ctx context.Context, c *http.Client, urls []string, hdr http.Header, want, clients int, d time.Duration) (float64, error) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var n atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	start := time.Now()
	for w := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ctx.Err() == nil; i++ {
				err := get(ctx, c, urls[i%len(urls)], hdr, want)
				if err != nil {
					if ctx.Err() == nil {
						once.Do(func() { firstErr = err })
						cancel()
					}
					return
				}
				n.Add(1)
			}
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return 0, firstErr
	}
	return float64(n.Load()) / time.Since(start).Seconds(), nil
}

// newClient is an HTTP client that keeps enough connections for clients.
func newClient(clients int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			MaxIdleConns:        clients * 2,
			MaxIdleConnsPerHost: clients * 2,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// searchTotal asks /api/search once and returns its total.
func searchTotal(ctx context.Context, c *http.Client, u string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, err
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		return 0, fmt.Errorf("GET %s: %s %s", u, resp.Status, b)
	}
	var res struct {
		Total int `json:"total"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
		return 0, fmt.Errorf("GET %s: %w", u, err)
	}
	return res.Total, nil
}

// etagOf returns the ETag u answers with.
func etagOf(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != http.StatusOK || etag == "" {
		return "", fmt.Errorf("GET %s: %s with ETag %q, want 200 with an ETag", u, resp.Status, etag)
	}
	return etag, nil
}

// distinctQueries cuts n queries from the corpus that differ from each
// other and from the fixed set: a run of two to five kanji or katakana from
// a Japanese sentence, or one or two words of an English one. Each is asked
// once, so that no cache of a query's results, facets or phrases helps:
// the long tail of what people search for.
func distinctQueries(c *corpus, n int, seed uint64) []query {
	rng := rand.New(rand.NewPCG(seed, 99))
	seen := map[string]bool{}
	for _, q := range queries {
		seen[q.q] = true
	}
	isJa := func(r rune) bool { return unicode.Is(unicode.Han, r) || unicode.Is(unicode.Katakana, r) }
	var out []query
	for tries := 0; len(out) < n && tries < 100*n; tries++ {
		var q string
		if rng.IntN(5) < 3 && len(c.ja) > 0 {
			s := []rune(c.ja[rng.IntN(len(c.ja))])
			i := rng.IntN(len(s))
			if !isJa(s[i]) {
				continue
			}
			j := i
			for j < len(s) && j-i < 2+rng.IntN(4) && isJa(s[j]) {
				j++
			}
			if j-i < 2 {
				continue
			}
			q = string(s[i:j])
		} else if len(c.en) > 0 {
			var words []string
			for _, w := range strings.Fields(c.en[rng.IntN(len(c.en))]) {
				w = strings.TrimFunc(w, func(r rune) bool { return !unicode.IsLetter(r) })
				if len(w) >= 4 && strings.IndexFunc(w, func(r rune) bool { return !unicode.IsLetter(r) || r > unicode.MaxASCII }) < 0 {
					words = append(words, strings.ToLower(w))
				}
			}
			if len(words) == 0 {
				continue
			}
			i := rng.IntN(len(words))
			q = words[i]
			if rng.IntN(3) == 0 && i+1 < len(words) {
				q += " " + words[i+1]
			}
			if q == "or" || strings.Contains(q, " or") {
				continue
			}
			// A query of stop words alone has no searchable word, and
			// vplanet answers it 400; people search for what they mean.
			if qw := strings.Fields(q); !slices.ContainsFunc(qw, func(w string) bool { return !index.StopWord(w) }) {
				continue
			}
		}
		if q == "" || seen[q] {
			continue
		}
		seen[q] = true
		out = append(out, query{kind: "distinct", q: q, gQuery: q})
	}
	return out
}
