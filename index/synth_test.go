package index

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vplanet"
)

// synth makes posts of about 3 KB (or size) from sentences of the Japanese and
// English texts, 60% Japanese, spread over blogs and years; post i is the
// same every time, so that a large set need not be held in memory.
// fixtureSynth makes them of the texts in testdata, so that the tests
// that use them run on a clone alone; the benchmarks use benchSynth.
type synth struct {
	ja, en, extra []string
	size          int // bytes of text a post has at least; 3,000 unless set
}

// newSynth makes a synth of Japanese and English prose.
func newSynth(ja, en string) *synth {
	split := func(text, sep string) []string {
		var out []string
		for _, s := range strings.Split(text, sep) {
			if s = strings.TrimSpace(s); len(s) > 10 {
				out = append(out, s+sep)
			}
		}
		return out
	}
	return &synth{
		ja:    split(ja, "。"),
		en:    split(en, ". "),
		extra: []string{"vSAN 6.6の新機能。", "ＶＣＨＡを構成した。", "NSX-T migration notes. ", "拡張クラスタの検証。", "vSphere7.0U3 upgrade. "},
	}
}

// post returns post i (0-based).
func (s *synth) post(i int) *vplanet.Post {
	r := rand.New(rand.NewPCG(1, uint64(i)))
	src, lang := s.ja, "ja"
	if r.IntN(10) >= 6 {
		src, lang = s.en, "en"
	}
	var text strings.Builder
	size := s.size
	if size == 0 {
		size = 3000
	}
	text.Grow(size + size/10)
	text.WriteString(s.extra[r.IntN(len(s.extra))])
	if i%1000 == 7 {
		// A rarer subject, for queries with a hundred hits at 100,000 posts.
		text.WriteString("vCenter Server Appliance 8.0 のアップグレード手順。")
	}
	for text.Len() < size {
		text.WriteString(src[r.IntN(len(src))])
		text.WriteByte(' ')
	}
	return &vplanet.Post{
		ID:        fmt.Sprint("post-", i),
		Title:     src[r.IntN(len(src))],
		Text:      text.String(),
		Lang:      lang,
		BlogSlug:  fmt.Sprint("blog-", r.IntN(50)),
		Published: time.Date(2010+r.IntN(15), time.Month(1+r.IntN(12)), 1+r.IntN(28), r.IntN(24), r.IntN(60), 0, 0, time.UTC),
		Seq:       int64(i + 1),
		Visible:   true,
	}
}

// posts makes the first n posts.
func (s *synth) posts(n int) []*vplanet.Post {
	posts := make([]*vplanet.Post, n)
	for i := range posts {
		posts[i] = s.post(i)
	}
	return posts
}

// synthSource is a ChangeSource of n synthesized posts, made as they are
// asked for, like the store's Changes.
type synthSource struct {
	s *synth
	n int
}

func (src synthSource) Changes(ctx context.Context, after int64, limit int) ([]*vplanet.Post, error) {
	var out []*vplanet.Post
	for i := int(after); i < src.n && len(out) < limit; i++ {
		out = append(out, src.s.post(i))
	}
	return out, nil
}

// fixtureSynth makes posts of the Japanese and English texts of testdata.
func fixtureSynth(t testing.TB) *synth {
	t.Helper()
	read := func(names ...string) string {
		var s strings.Builder
		for _, name := range names {
			b, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			s.Write(b)
		}
		return s.String()
	}
	return newSynth(read(filepath.Join("..", "ja", "testdata", "bocchan-ja.txt"), "sample-ja.txt"), read("sample-en.txt"))
}
