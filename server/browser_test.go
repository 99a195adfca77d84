package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/net/websocket"

	"vplanet"
)

// TestBrowser drives a real headless Chromium through the pages the way a
// person would. First without JavaScript: open /, type VCHA, press Enter,
// see the Japanese post with a marked snippet, page forward, follow a facet
// and take it back, page through the home page. Then with JavaScript:
// results and suggestions come as one types, without pressing Enter. Then
// axe-core checks every kind of page, in both languages, for WCAG 2.1 A
// and AA violations. It saves screenshots at desktop and phone widths (go
// test -artifacts keeps them). It speaks the DevTools protocol itself over
// x/net/websocket, so it needs no browser automation library; it is skipped
// when no Chromium is installed (Debian: apt-get install chromium; or set
// VPLANET_CHROMIUM), and its accessibility part when axe-core is not
// found (npm install -g axe-core, or set VPLANET_AXE to axe.min.js).
func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin := findChromium()
	if bin == "" {
		t.Skip("chromium not found: apt-get install chromium, or set VPLANET_CHROMIUM")
	}
	e := newEnv(t, Config{Glossary: [][]string{{"VCHA", "vCenter HA"}}})
	var more, other []*vplanet.Post
	for i := range 12 {
		more = append(more, &vplanet.Post{
			ID: fmt.Sprintf("more-%02d", i), URL: fmt.Sprintf("https://blog.example.com/more/%d", i),
			Title: fmt.Sprintf("VCHA notes, part %d", i+1), Text: "More notes on VCHA failover and witness nodes.",
			Published: time.Date(2019, 3, 1+i, 0, 0, 0, 0, time.UTC), Lang: "en", Hash: strconv.Itoa(i),
		})
	}
	for i := range 20 {
		other = append(other, &vplanet.Post{
			ID: fmt.Sprintf("other-%02d", i), URL: fmt.Sprintf("https://blog.example.jp/other/%d", i),
			Title: fmt.Sprintf("ストレージの話 その %d", i+1), Text: "vSAN の重複排除について。",
			Published: time.Date(2016, 1, 1+i, 0, 0, 0, 0, time.UTC), Lang: "ja", Hash: strconv.Itoa(i),
		})
	}
	e.save(t, map[string][]*vplanet.Post{enBlog: more, jaBlog: other})
	e.catchUp(t)
	// One blog has an icon, the other none.
	icon, err := os.ReadFile(filepath.Join("..", "crawler", "testdata", "favicon", "cropped-site-icon-32x32.png"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.st.UpdateFavicon(context.Background(), e.feeds[enBlog].ID, time.Now(),
		&vplanet.Favicon{ContentType: "image/png", Data: icon, Updated: time.Now()}); err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(e.h)
	defer ts.Close()

	b := startBrowser(t, bin)
	shots := t.ArtifactDir()
	loaded := func(extra string) {
		t.Helper()
		b.waitFor(`document.readyState === "complete" && !!document.querySelector("#q")` + extra)
	}

	// Without JavaScript.
	b.call("Emulation.setScriptExecutionDisabled", map[string]any{"value": true})
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	b.call("Page.navigate", map[string]any{"url": ts.URL + "/"})
	loaded("")

	// CSS is allowed by the CSP and applied.
	if got := b.eval(`getComputedStyle(document.body).maxWidth`); got != "1152px" {
		t.Errorf("stylesheet not applied: body max-width %v, want 1152px", got)
	}
	if got := b.eval(`Array.from(document.scripts).map(s => s.getAttribute("src") + ":" + s.text.trim().length).join()`); got != "/static/search.js:0" {
		t.Errorf("scripts: got %v, want only the site's own file", got)
	}

	// The blog's icon loads beside its name, under the CSP's img-src
	// 'self', and no image on the page is broken.
	if n := b.eval(`document.querySelectorAll("img.favicon").length`); n == float64(0) {
		t.Error("no blog icon on the home page")
	}
	if got := b.eval(`Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src).join()`); got != "" {
		t.Errorf("broken images on the home page: %v", got)
	}
	if got := b.eval(`document.querySelector("img.favicon").naturalWidth`); got != float64(32) {
		t.Errorf("blog icon is %v pixels wide, want 32", got)
	}

	// The home page pages through every post: 36, thirty a page.
	if n := b.eval(`document.querySelectorAll("li.post").length`); n != float64(30) {
		t.Errorf("home page 1 has %v posts, want 30", n)
	}
	b.eval(`document.querySelector('a[rel="next"]').click()`)
	loaded(` && location.search.includes("page=2")`)
	if n := b.eval(`document.querySelectorAll("li.post").length`); n != float64(6) {
		t.Errorf("home page 2 has %v posts, want 6", n)
	}
	if got := b.eval(`document.querySelector('link[rel="prev"]').getAttribute("href")`); got != "/" {
		t.Errorf("home page 2's rel=prev: got %v, want /", got)
	}

	// Type and submit with the keyboard.
	b.eval(`document.querySelector("#q").focus()`)
	b.call("Input.insertText", map[string]any{"text": "VCHA"})
	for _, typ := range []string{"keyDown", "keyUp"} {
		b.call("Input.dispatchKeyEvent", map[string]any{"type": typ, "key": "Enter", "code": "Enter",
			"windowsVirtualKeyCode": 13, "nativeVirtualKeyCode": 13, "text": "\r"})
	}
	loaded(` && location.pathname === "/search" && !!document.querySelector(".summary")`)

	if n := b.eval(`document.querySelectorAll('li.post mark').length`); n == float64(0) {
		t.Error("no <mark> in the results")
	}
	if got := b.eval(`document.querySelector("link[rel=alternate]").getAttribute("href")`); got != "/feed.atom?q=VCHA" {
		t.Errorf("first alternate: got %v, want the search's own feed", got)
	}
	b.screenshot(filepath.Join(shots, "results-desktop.png"))

	// Phone width: no sideways scrolling, facets above the results.
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": true})
	b.call("Page.reload", nil)
	loaded(` && !!document.querySelector(".summary")`)
	if got := b.eval(`document.documentElement.scrollWidth <= window.innerWidth`); got != true {
		t.Errorf("page scrolls sideways at phone width (scrollWidth %v, innerWidth %v)",
			b.eval(`document.documentElement.scrollWidth`), b.eval(`window.innerWidth`))
	}
	if got := b.eval(`document.querySelector(".facets").getBoundingClientRect().bottom <= document.querySelector("li.post").getBoundingClientRect().top`); got != true {
		t.Error("at phone width the facets are not above the results")
	}
	b.screenshot(filepath.Join(shots, "results-phone.png"))

	// Dark colour scheme.
	light := b.eval(`getComputedStyle(document.body).backgroundColor`)
	b.call("Emulation.setEmulatedMedia", map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": "dark"}}})
	if dark := b.eval(`getComputedStyle(document.body).backgroundColor`); dark == light {
		t.Errorf("dark scheme has the light background %v", dark)
	}
	b.screenshot(filepath.Join(shots, "results-phone-dark.png"))
	b.call("Emulation.setEmulatedMedia", map[string]any{"features": []map[string]string{{"name": "prefers-color-scheme", "value": "light"}}})

	// /blogs on a phone: every column on screen, nothing to scroll sideways.
	b.call("Page.navigate", map[string]any{"url": ts.URL + "/blogs"})
	loaded("")
	if got := b.eval(`document.documentElement.scrollWidth <= window.innerWidth && Array.from(document.querySelectorAll("table.blogs td")).every(td => td.getBoundingClientRect().right <= window.innerWidth)`); got != true {
		t.Error("/blogs at phone width: a column is off screen")
	}
	b.screenshot(filepath.Join(shots, "blogs-phone.png"))
	b.call("Emulation.setDeviceMetricsOverride", map[string]any{"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": false})
	b.call("Page.navigate", map[string]any{"url": ts.URL + "/search?q=VCHA"})
	loaded(` && !!document.querySelector(".summary")`)

	// Page forward: 14 posts match, ten a page.
	b.eval(`document.querySelector('a[rel="next"]').click()`)
	loaded(` && location.search.includes("page=2") && !!document.querySelector(".summary")`)
	if n := b.eval(`document.querySelectorAll("li.post").length`); n != float64(4) {
		t.Errorf("page 2 has %v hits, want 4", n)
	}
	// The Japanese post mentions VCHA in its text only: the thirteen posts
	// with VCHA in their title rank above it, so it is on page 2.
	titles := b.eval(`Array.from(document.querySelectorAll('li.post h3 a[lang="ja"]')).map(a => a.textContent).join("|")`)
	if s, _ := titles.(string); !strings.Contains(s, "VMworld 2017 Europe #4") {
		t.Errorf("Japanese post not on page 2: %q", titles)
	}
	if n := b.eval(`document.querySelectorAll('.snippet[lang="ja"] mark').length`); n == float64(0) {
		t.Error("no <mark> in the Japanese snippet")
	}
	b.screenshot(filepath.Join(shots, "results-page2-desktop.png"))

	// Follow the Japanese language facet, then take it back.
	b.eval(`document.querySelector('.facets a[href*="lang%3Aja"]').click()`)
	loaded(` && location.search.includes("lang%3Aja") && !!document.querySelector(".summary")`)
	if got := b.eval(`Array.from(document.querySelectorAll("li.post .lang")).every(s => s.textContent === "ja")`); got != true {
		t.Error("language facet left non-Japanese hits")
	}
	if n := b.eval(`document.querySelectorAll("li.post").length`); n != float64(1) {
		t.Errorf("lang:ja hits: got %v, want 1", n)
	}
	b.screenshot(filepath.Join(shots, "facet-desktop.png"))
	b.eval(`document.querySelector('.facets a.remove').click()`)
	loaded(` && !location.search.includes("lang") && !!document.querySelector(".summary")`)
	if got := b.eval(`document.querySelector("#q").value + " " + document.querySelectorAll("li.post").length`); got != "VCHA 10" {
		t.Errorf("after removing the facet: got %q, want the query VCHA and a full page", got)
	}

	// With JavaScript: results and suggestions as one types.
	b.call("Emulation.setScriptExecutionDisabled", map[string]any{"value": false})
	b.call("Page.navigate", map[string]any{"url": ts.URL + "/?hl=ja"})
	loaded(` && !!document.querySelector("#q[list]")`)
	b.eval(`document.querySelector("#q").focus()`)
	for _, s := range []string{"v", "C", "H", "A"} {
		b.call("Input.insertText", map[string]any{"text": s})
	}
	b.waitFor(`document.querySelector("main").dataset.live === "vCHA" && document.querySelectorAll("li.post").length === 10`)
	if got := b.eval(`location.pathname + location.search`); got != "/search?q=vCHA&hl=ja" {
		t.Errorf("address after typing: got %v, want the search's", got)
	}
	if got := b.eval(`document.documentElement.lang + " " + document.querySelector(".summary p").textContent.includes("件")`); got != "ja true" {
		t.Errorf("live results not in Japanese: %v", got)
	}
	b.waitFor(`document.querySelectorAll("#q-suggestions option").length > 0`)
	if got := b.eval(`Array.from(document.querySelectorAll("#q-suggestions option")).map(o => o.value).join("|")`); !strings.Contains(got.(string), "VCHA notes") {
		t.Errorf("suggestions: got %q, want post titles", got)
	}
	b.screenshot(filepath.Join(shots, "live-results-ja.png"))

	// Accessibility: no WCAG 2.1 A or AA violation on any kind of page.
	axe := findAxe()
	if axe == "" {
		t.Log("axe-core not found (npm install -g axe-core, or set VPLANET_AXE): accessibility not checked")
		return
	}
	src, err := os.ReadFile(axe)
	if err != nil {
		t.Fatal(err)
	}
	slug := e.feeds[jaBlog].Slug
	for _, path := range []string{"/", "/?page=2", "/search?q=VCHA", "/search?q=VCHA+lang:ja", "/search?q=zzyzx", "/search?q=%22open",
		"/search?q=", "/blogs", "/blogs/" + slug, "/subscribe", "/no/such/page"} {
		for _, hl := range []string{"en", "ja"} {
			u := ts.URL + path
			if strings.Contains(u, "?") {
				u += "&hl=" + hl
			} else {
				u += "?hl=" + hl
			}
			b.call("Page.navigate", map[string]any{"url": u})
			loaded("")
			b.eval(string(src))
			got := b.evalAsync(`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
				.then(r => ({passes: r.passes.length, violations: r.violations.map(v => v.id + ": " + v.nodes.map(n => n.target.join(" ")).join(", "))}))`)
			m, _ := got.(map[string]any)
			if vs, _ := m["violations"].([]any); len(vs) > 0 {
				t.Errorf("%s: %d WCAG 2.1 A/AA violations: %v", u, len(vs), vs)
			}
			// A check that passed nothing did not run.
			if n, _ := m["passes"].(float64); n < 5 {
				t.Errorf("%s: axe passed only %v rules; did it run?", u, m["passes"])
			}
		}
	}
}

// findAxe finds axe-core's axe.min.js: VPLANET_AXE, else the global npm
// installation.
func findAxe() string {
	if p := os.Getenv("VPLANET_AXE"); p != "" {
		return p
	}
	for _, dir := range []string{"/usr/lib/node_modules", "/usr/local/lib/node_modules"} {
		p := filepath.Join(dir, "axe-core", "axe.min.js")
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return ""
}

func findChromium() string {
	if p := os.Getenv("VPLANET_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browser is one page of a headless Chromium, driven over the DevTools
// protocol.
type browser struct {
	t    *testing.T
	ws   *websocket.Conn
	next int
}

func startBrowser(t *testing.T, bin string) *browser {
	t.Helper()
	// Not t.TempDir: Chromium's helper processes may still be writing the
	// profile for a moment after they are killed, which would fail the test
	// in its cleanup.
	profile, err := os.MkdirTemp("", "vplanet-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
		"--no-first-run", "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
		"--remote-debugging-address=127.0.0.1", "--remote-allow-origins=*",
		"--remote-debugging-port=0", "--user-data-dir="+profile, "about:blank")
	// Its own process group, so that the renderer and GPU processes it
	// starts are killed with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		for range 50 {
			if os.RemoveAll(profile) == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
	// Chromium writes the port it chose to DevToolsActivePort.
	var port string
	deadline := time.Now().Add(30 * time.Second)
	for port == "" {
		if b, err := os.ReadFile(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			port, _, _ = strings.Cut(string(b), "\n")
		}
		if time.Now().After(deadline) {
			t.Fatal("chromium did not open its DevTools port in 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var targets []struct{ Type, WebSocketDebuggerURL string }
	for {
		resp, err := http.Get("http://127.0.0.1:" + port + "/json/list")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&targets)
			resp.Body.Close()
		}
		if err == nil && len(targets) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no page target from chromium: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	var wsURL string
	for _, tg := range targets {
		if tg.Type == "page" {
			wsURL = tg.WebSocketDebuggerURL
		}
	}
	ws, err := websocket.Dial(wsURL, "", "http://127.0.0.1/")
	if err != nil {
		t.Fatalf("dial devtools: %v", err)
	}
	ws.MaxPayloadBytes = 64 << 20 // screenshots
	t.Cleanup(func() { ws.Close() })
	return &browser{t: t, ws: ws}
}

// call sends one command and waits for its answer, skipping events.
func (b *browser) call(method string, params any) json.RawMessage {
	b.t.Helper()
	res, err := b.send(method, params)
	if err != nil {
		b.t.Fatal(err)
	}
	return res
}

// send sends one DevTools command and waits for its answer. An error the
// browser answers with (such as "Inspected target navigated or closed"
// while a page is replaced) is returned, for callers that retry.
func (b *browser) send(method string, params any) (json.RawMessage, error) {
	b.next++
	id := b.next
	if params == nil {
		params = map[string]any{}
	}
	b.ws.SetDeadline(time.Now().Add(30 * time.Second))
	if err := websocket.JSON.Send(b.ws, map[string]any{"id": id, "method": method, "params": params}); err != nil {
		b.t.Fatalf("%s: %v", method, err)
	}
	for {
		var msg struct {
			ID     int
			Result json.RawMessage
			Error  *struct{ Message string }
		}
		if err := websocket.JSON.Receive(b.ws, &msg); err != nil {
			b.t.Fatalf("%s: %v", method, err)
		}
		if msg.ID != id {
			continue
		}
		if msg.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, msg.Error.Message)
		}
		return msg.Result, nil
	}
}

// eval runs a JavaScript expression in the page and returns its value.
func (b *browser) eval(expr string) any {
	b.t.Helper()
	var res struct {
		Result struct {
			Value any
		}
		ExceptionDetails *struct{ Text string }
	}
	raw := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true})
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		b.t.Fatalf("evaluate %s: %s", expr, res.ExceptionDetails.Text)
	}
	return res.Result.Value
}

// evalAsync runs a JavaScript expression that gives a promise and returns
// what it resolves to.
func (b *browser) evalAsync(expr string) any {
	b.t.Helper()
	var res struct {
		Result struct {
			Value any
		}
		ExceptionDetails *struct{ Text string }
	}
	raw := b.call("Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err := json.Unmarshal(raw, &res); err != nil {
		b.t.Fatal(err)
	}
	if res.ExceptionDetails != nil {
		b.t.Fatalf("evaluate %s: %s", expr, res.ExceptionDetails.Text)
	}
	return res.Result.Value
}

// waitFor polls a JavaScript condition until it holds, for up to 15s.
func (b *browser) waitFor(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var res struct {
			Result struct{ Value any }
		}
		// Evaluation may fail while a navigation swaps the document; retry.
		raw, err := b.send("Runtime.evaluate", map[string]any{"expression": "(() => { try { return " + cond + " } catch (e) { return false } })()", "returnByValue": true})
		if err == nil && json.Unmarshal(raw, &res) == nil && res.Result.Value == true {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("timed out waiting for %s (at %v)", cond, b.eval("location.href"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (b *browser) screenshot(path string) {
	b.t.Helper()
	var res struct{ Data string }
	if err := json.Unmarshal(b.call("Page.captureScreenshot", map[string]any{"format": "png", "captureBeyondViewport": true}), &res); err != nil {
		b.t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(res.Data)
	if err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
