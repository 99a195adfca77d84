package server

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/text/language"

	"vplanet"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// pages holds one template set per page, each sharing layout.html.
type pages struct {
	byName map[string]*template.Template
}

// mustParsePages parses the embedded templates. They are part of the
// binary, so a failure is a programming error caught by every test.
func mustParsePages() *pages {
	p := &pages{byName: map[string]*template.Template{}}
	for _, name := range []string{"home", "search", "blogs", "blog", "error", "subscribe"} {
		t := template.Must(template.New("layout.html").ParseFS(templateFiles,
			"templates/layout.html", "templates/parts.html", "templates/"+name+".html"))
		p.byName[name] = t
	}
	return p
}

// page is what every template receives: the interface language, the
// request's query (for the search box in the header), and the page's own
// data in Data.
type page struct {
	Lang    string // the interface's language: "en" or "ja"
	HL      string // the ?hl= the visitor chose, kept on links; "" when Accept-Language decided
	Query   string
	Path    string
	Version string
	Data    any
	loc     *time.Location
	now     time.Time // for dates said relative to now
	query   string    // the request's raw query, for SwitchURL
	// ctx is the request's, for the lookups a page's views make (the
	// blogs that have an icon).
	ctx context.Context
}

// T translates a message key into the page's language.
func (p *page) T(key string) string {
	if m, ok := messages[p.Lang][key]; ok {
		return m
	}
	if m, ok := messages["en"][key]; ok {
		return m
	}
	return key
}

// Tf translates a message key and formats it with args.
func (p *page) Tf(key string, args ...any) string {
	m := p.T(key)
	if !strings.Contains(m, "%") {
		return m // "yesterday" needs no count
	}
	return fmt.Sprintf(m, args...)
}

// N translates a message key for a count: English says "1 result" where
// it says "2 results" (key_one); Japanese has one form.
func (p *page) N(key string, count any) string {
	var n int
	switch c := count.(type) {
	case int:
		n = c
	case uint64:
		n = int(min(c, 1<<62))
	}
	if n == 1 {
		if _, ok := messages[p.Lang][key+"_one"]; ok {
			return p.Tf(key+"_one", n)
		}
	}
	return p.Tf(key, n)
}

// URL builds a site link from a path and key/value pairs, keeping the
// visitor's language choice.
func (p *page) URL(path string, kv ...string) string {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			v.Set(kv[i], kv[i+1])
		}
	}
	if p.HL != "" {
		v.Set("hl", p.HL)
	}
	if len(v) == 0 {
		return path
	}
	return path + "?" + v.Encode()
}

// SwitchURL is this page in the other interface language.
func (p *page) SwitchURL(hl string) string {
	return p.Path + "?" + setParam(p.query, "hl", hl)
}

// Date formats t as a calendar day in the server's time zone.
func (p *page) Date(t time.Time) string {
	if t.IsZero() {
		return p.T("never")
	}
	return t.In(p.loc).Format("2006-01-02")
}

// DateTime formats t to the minute in the server's time zone.
func (p *page) DateTime(t time.Time) string {
	if t.IsZero() {
		return p.T("never")
	}
	return t.In(p.loc).Format("2006-01-02 15:04 MST")
}

// ISO formats t for a <time datetime> attribute.
func (p *page) ISO(t time.Time) string { return t.In(p.loc).Format(time.RFC3339) }

// setParam returns raw with key set to value, other parameters unchanged.
func setParam(raw, key, value string) string {
	v, _ := url.ParseQuery(raw)
	if v == nil {
		v = url.Values{}
	}
	v.Set(key, value)
	return v.Encode()
}

var uiLanguages = language.NewMatcher([]language.Tag{language.English, language.Japanese})

// uiLang chooses the interface language: ?hl= first, then Accept-Language.
func uiLang(r *http.Request) (lang, hl string) {
	switch hl := r.URL.Query().Get("hl"); hl {
	case "en", "ja":
		return hl, hl
	}
	tags, _, err := language.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
	if err != nil || len(tags) == 0 {
		return "en", ""
	}
	_, i, _ := uiLanguages.Match(tags...)
	if i == 1 {
		return "ja", ""
	}
	return "en", ""
}

// hlParam is the visitor's explicit language choice, if any, to keep on
// links.
func hlParam(r *http.Request) string {
	_, hl := uiLang(r)
	return hl
}

// newPage is what a template of request r needs besides its data.
func (s *server) newPage(r *http.Request, data any) *page {
	lang, hl := uiLang(r)
	now := time.Now
	if s.now != nil {
		now = s.now
	}
	return &page{
		Lang:    lang,
		HL:      hl,
		Query:   r.URL.Query().Get("q"),
		Path:    r.URL.Path,
		Version: vplanet.Version,
		Data:    data,
		loc:     s.cfg.Location,
		now:     now(),
		query:   r.URL.RawQuery,
		ctx:     r.Context(),
	}
}

// render answers with the named page.
func (s *server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	p := s.newPage(r, data)
	lang := p.Lang
	var buf bytes.Buffer
	if err := s.pages.byName[name].Execute(&buf, p); err != nil {
		// A template that fails is a bug; say so without the details.
		s.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error: the page could not be drawn; it has been logged", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Language", lang)
	h.Set("Vary", "Accept-Language")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage is the data of the error page.
type errorPage struct {
	Status  int
	Message string
}

// handleStatic serves the embedded stylesheet and icon, without directory
// listings.
func (s *server) handleStatic() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	files := http.StripPrefix("/static/", http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") {
			s.writeHTMLError(w, r, vplanet.ErrNotFound)
			return
		}
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}

// handleNotFound answers every path no route matches.
func (s *server) handleNotFound() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeHTMLError(w, r, vplanet.ErrNotFound)
	})
}
