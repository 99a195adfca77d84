package server

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"vplanet"
	"vplanet/index"
	"vplanet/store"
	"vplanet/websub"
)

// WebSub, on the server's side: the routes hubs and readers call (their
// handlers come from cmd/vplanet, so the server never imports the crawler),
// the hub and self links of the feeds, and the rendering of a feed's new
// posts for vplanet's own hub.

// hubURL is vplanet's hub, named by its feeds; "" when it has none (no
// --base-url: without a canonical address, no topic could be named).
func (s *server) hubURL() string {
	if s.cfg.WebSubHub == nil || s.cfg.BaseURL == "" {
		return ""
	}
	return strings.TrimSuffix(s.cfg.BaseURL, "/") + "/websub/hub"
}

// selfURL is the canonical URL of the feed r asks for: its path under
// base, and its search, the only query that changes what it holds.
func selfURL(base string, r *http.Request) string {
	self := base + strings.TrimPrefix(r.URL.Path, "/")
	if q := r.URL.Query().Get("q"); q != "" {
		self += "?q=" + url.QueryEscape(q)
	}
	return self
}

// topic is one of vplanet's feeds named as a WebSub topic.
type topic struct {
	format feedFormat
	blog   string // the blog's slug; "" for the merged feed
	q      string // the search, as the reader wrote it
}

var topicFormats = map[string]feedFormat{
	"feed.atom": formatAtom, "feed.rss": formatRSS, "feed.json": formatJSON,
}

// parseTopic reads raw as one of the six feed addresses under base
// (/feed.{atom,rss,json} and /blogs/{id}/feed.{atom,rss,json}, with no
// query but q) spelled exactly as the feeds name themselves: a topic
// spelled another way is refused rather than left to receive nothing.
func parseTopic(base, raw string) (topic, bool) {
	base = strings.TrimSuffix(base, "/") + "/"
	if !strings.HasPrefix(raw, base) {
		return topic{}, false
	}
	u, err := url.Parse(raw)
	if err != nil || u.Fragment != "" {
		return topic{}, false
	}
	rest, query, _ := strings.Cut(strings.TrimPrefix(raw, base), "?")
	var t topic
	name := rest
	if after, ok := strings.CutPrefix(rest, "blogs/"); ok {
		slug, file, ok := strings.Cut(after, "/")
		if !ok || slug == "" || url.PathEscape(slug) != slug {
			return topic{}, false
		}
		t.blog, name = slug, file
	}
	f, ok := topicFormats[name]
	if !ok {
		return topic{}, false
	}
	t.format = f
	v, err := url.ParseQuery(query)
	if err != nil {
		return topic{}, false
	}
	for k := range v {
		if k != "q" {
			return topic{}, false
		}
	}
	t.q = v.Get("q")
	canonical := base + rest
	if t.q != "" {
		canonical += "?q=" + url.QueryEscape(t.q)
	}
	return t, canonical == raw
}

// Topics renders vplanet's feeds for its WebSub hub: which topics it
// serves, and each topic's posts not yet distributed.
type Topics struct{ s *server }

// NewWithTopics is NewServer, and the Topics of the same server for the
// hub that cfg.WebSubHub serves. cmd/vplanet builds the hub after the
// server, with Topics.Check, so that handler is a forwarder it fills in.
func NewWithTopics(cfg Config, st *store.DB, ix *index.Index) (http.Handler, *Topics) {
	s := newServer(cfg, st, ix)
	return s.handler(), &Topics{s: s}
}

// Check reports whether topic is one of the feeds this vplanet serves,
// named as the feeds name themselves: websub.HubConfig.Topic. A topic
// asked for the first time gets its watermark here, at what the index
// holds now, so that the posts indexed from the request on are pushed and
// none before (the reader has the feed for those).
func (t *Topics) Check(raw string) bool {
	tp, ok := parseTopic(t.s.cfg.BaseURL, raw)
	if !ok {
		return false
	}
	if tp.q != "" && checkQuery(tp.q) != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if tp.blog != "" {
		if _, err := t.s.st.FindFeed(ctx, tp.blog); err != nil {
			return false
		}
	}
	if _, err := t.s.st.AdvanceHubTopic(ctx, raw, 0, t.s.ix.Seq(), false); err != nil {
		t.s.log.Warn("websub: start a topic's watermark", "topic", raw, "err", err)
		return false
	}
	return true
}

// maxPushed bounds the posts one distribution carries, as ?n= bounds a
// feed: a crawl that stores thousands of posts at once (a new blog's
// archive) pushes its newest.
const maxPushed = maxFeedEntries

// Render is the websub.Renderer of vplanet's hub: the topic's feed holding
// only the posts indexed since its last distribution (a search topic: only
// those its search finds). Replicas share the watermark in the store and
// move it with a compare-and-set, so whichever replica renders a post
// first distributes it and the others send nothing. A topic's first round
// sets its watermark without sending history.
func (t *Topics) Render(ctx context.Context, raw string) (websub.Content, error) {
	s := t.s
	tp, ok := parseTopic(s.cfg.BaseURL, raw)
	if !ok {
		return websub.Content{}, fmt.Errorf("render topic %s: not a feed of this vplanet", raw)
	}
	indexed := s.ix.Seq() // posts up to here can be searched
	mark, found, err := s.st.FindHubTopic(ctx, raw)
	if err != nil {
		return websub.Content{}, err
	}
	if !found {
		_, err := s.st.AdvanceHubTopic(ctx, raw, 0, indexed, false)
		return websub.Content{}, err
	}
	if indexed <= mark {
		return websub.Content{}, nil
	}
	var blog *vplanet.Feed
	if tp.blog != "" {
		if blog, err = s.st.FindFeed(ctx, tp.blog); err != nil {
			return websub.Content{}, fmt.Errorf("render topic %s: %w", raw, err)
		}
	}
	fresh := map[string]bool{}
	for after := mark; after < indexed; {
		changes, err := s.st.Changes(ctx, after, 500)
		if err != nil {
			return websub.Content{}, err
		}
		if len(changes) == 0 {
			break
		}
		for _, p := range changes {
			after = p.Seq
			if p.Seq > indexed {
				break
			}
			if p.Visible && (blog == nil || p.FeedID == blog.ID) {
				fresh[p.ID] = true
			}
		}
	}
	var posts []*vplanet.Post
	if len(fresh) > 0 {
		if tp.q != "" {
			q := tp.q
			if blog != nil {
				q = "blog:" + blog.Slug + " " + q
			}
			// The search's newest hits, of which the fresh ones: a fresh
			// post dated older than the newest maxFeedEntries hits is not
			// pushed (it is in the feed for readers who poll).
			_, hits, err := s.search(ctx, index.Request{Query: q, Limit: maxFeedEntries, Sort: "date"}, true)
			if err != nil {
				return websub.Content{}, fmt.Errorf("render topic %s: %w", raw, err)
			}
			for _, h := range hits {
				if fresh[h.post.ID] {
					posts = append(posts, h.post)
				}
			}
		} else {
			ids := make([]string, 0, len(fresh))
			for id := range fresh {
				ids = append(ids, id)
			}
			if posts, err = s.st.FindPosts(ctx, ids); err != nil {
				return websub.Content{}, err
			}
			slices.SortFunc(posts, func(a, b *vplanet.Post) int { return b.Published.Compare(a.Published) })
		}
	}
	posts = posts[:min(len(posts), maxPushed)]
	var c websub.Content
	if len(posts) > 0 {
		doc := &feedDoc{Title: "vplanet", Base: strings.TrimSuffix(s.cfg.BaseURL, "/") + "/",
			Generate: "vplanet " + vplanet.Version, ID: raw, SelfURL: raw}
		doc.HomeURL = doc.Base
		switch {
		case tp.q != "":
			doc.Title = "vplanet: " + tp.q
			doc.HomeURL = doc.Base + "search?q=" + url.QueryEscape(tp.q) + "&sort=date"
		case blog != nil:
			doc.Title = blog.DisplayName() + " · vplanet"
			doc.Lang = blog.Lang
			doc.HomeURL = doc.Base + "blogs/" + url.PathEscape(blog.Slug)
		}
		if err := s.addEntries(ctx, doc, posts); err != nil {
			return websub.Content{}, err
		}
		body, err := tp.format.render(doc)
		if err != nil {
			return websub.Content{}, fmt.Errorf("render topic %s: %w", raw, err)
		}
		c = websub.Content{Body: body, Type: tp.format.contentType}
	}
	// Rendered first, claimed after: a failed rendering leaves the posts
	// to the next round rather than losing them.
	won, err := s.st.AdvanceHubTopic(ctx, raw, mark, indexed, true)
	if err != nil || !won {
		return websub.Content{}, err
	}
	return c, nil
}

// pushView is a feed's WebSub subscription as /blogs/{id} and /api/feeds
// show it.
type pushView struct {
	State    string     `json:"state"`
	Hub      string     `json:"hub"`
	Topic    string     `json:"topic"`
	Until    *time.Time `json:"until"`
	LastPush *time.Time `json:"last_push"`
	Since    *time.Time `json:"since"` // when the last request was sent
	Reason   string     `json:"reason,omitempty"`
}

// findPushes returns every feed's subscription by feed URL.
func (s *server) findPushes(ctx context.Context) (map[string]*pushView, error) {
	subs, err := s.st.FindSubscriptions(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]*pushView, len(subs))
	for _, sub := range subs {
		out[sub.Feed] = &pushView{
			State: string(sub.State), Hub: sub.Hub, Topic: sub.Topic, Reason: sub.Reason,
			Until: optTime(sub.Expires), LastPush: optTime(sub.Pushed), Since: optTime(sub.Asked),
		}
	}
	return out, nil
}
