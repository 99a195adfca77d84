package server

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
)

// iconMaxAge is how long browsers may keep a blog's icon: the crawler
// looks for a new one once a week.
const iconMaxAge = "public, max-age=86400"

// handleFavicon answers GET /blogs/{id}/favicon with the blog's icon, which
// the crawler fetched and checked to be a PNG, ICO, GIF, JPEG or WebP
// image: served from vplanet's own origin, it keeps the pages'
// Content-Security-Policy at img-src 'self', and readers' browsers never
// ask the blog's host. A blog without one answers 404.
func (s *server) handleFavicon() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		icon, err := s.st.FindFavicon(r.Context(), r.PathValue("id"))
		if err != nil {
			s.writeHTMLError(w, r, err)
			return
		}
		sum := sha256.Sum256(icon.Data)
		h := w.Header()
		h.Set("Content-Type", icon.ContentType)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", iconMaxAge)
		h.Set("ETag", `"`+hex.EncodeToString(sum[:12])+`"`)
		// Opened on its own, an image needs no script, style or frame.
		h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
		http.ServeContent(w, r, "", icon.Updated, bytes.NewReader(icon.Data))
	})
}

// iconURL is the address of the icon of the blog with this slug, or "" when
// the store has none, so that a page shows no broken image.
func (s *server) iconURL(ctx context.Context, slug string) string {
	if ctx == nil {
		return ""
	}
	bySlug, _, err := s.blogs.get(ctx, s.st)
	if err != nil {
		return "" // the page goes on without icons
	}
	if f, ok := bySlug[slug]; ok && f.HasFavicon {
		return "/blogs/" + url.PathEscape(slug) + "/favicon"
	}
	return ""
}
