package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"vplanet"
)

// The cases of the design notes: each query against a small set of posts, with the
// posts that must be found and those that must not.
func TestSearchQuality(t *testing.T) {
	ix := openTest(t,
		post("vcha", "VMworld 2017 Europe #4", "今日はＶＣＨＡの構成を試しました。"),
		post("guide-half", "導入", "ｶﾞｲﾄﾞを読みました"),
		post("guide-full", "導入", "インストールガイドを参照"),
		post("server-long", "再起動", "サーバーを再起動する"),
		post("server-short", "設定", "サーバの設定を確認"),
		post("kix", "旅行記", "関西国際空港に到着しました"),
		post("kyoto", "開催地", "今年は京都で開催"),
		post("tokyo", "開催地", "今年は東京都で開催"),
		post("vsan66", "vSAN 6.6の新機能", "新しいリリース"),
		post("vsan67", "vSAN 6.7の新機能", "新しいリリース"),
		post("nsxt", "NSX-Tの導入", "手順"),
		post("nsxv", "NSX-Vの導入", "手順"),
		post("vcenter", "Upgrade notes", "Upgrading vCenter Server in place"),
		post("migrated", "作業記録", "仮想マシンを移行しました"),
		post("migration", "Planning", "A migration to vSphere 8 takes planning"),
		post("vsphere703", "Release notes", "What is new in vSphere7.0U3 this year"),
	)
	for _, tc := range []struct {
		query string
		want  []string // found, in any order
		not   []string // never found
	}{
		{"VCHA", []string{"vcha"}, nil},
		{"vcha", []string{"vcha"}, nil},
		{"ＶＣＨＡ", []string{"vcha"}, nil},
		{"ガイド", []string{"guide-half", "guide-full"}, nil},
		{"ｶﾞｲﾄﾞ", []string{"guide-half", "guide-full"}, nil},
		{"サーバ", []string{"server-long", "server-short"}, nil},
		{"サーバー", []string{"server-long", "server-short"}, nil},
		{"空港", []string{"kix"}, nil},
		{`"関西国際空港"`, []string{"kix"}, nil},
		{"関西国際空港", []string{"kix"}, nil},
		{"京都", []string{"kyoto"}, []string{"tokyo"}},
		{`"vSAN 6.6"`, []string{"vsan66"}, []string{"vsan67"}},
		{"vSAN6.6", []string{"vsan66"}, []string{"vsan67"}},
		{"NSX-T", []string{"nsxt"}, []string{"nsxv"}},
		{"vcenter", []string{"vcenter"}, nil},
		{"移行する", []string{"migrated"}, nil},
		{"migrating", []string{"migration"}, nil},
		{"vSphere7.0U3", []string{"vsphere703"}, nil},
		{"vsphere", []string{"vsphere703", "migration"}, nil},
		{"7.0", []string{"vsphere703"}, nil},
		{"6", nil, []string{"vsan66", "vsan67"}},
	} {
		t.Run(tc.query, func(t *testing.T) {
			got := ids(t, ix, Request{Query: tc.query, Limit: 100})
			for _, id := range tc.want {
				if !slices.Contains(got, id) {
					t.Errorf("got %v, want %s among them", got, id)
				}
			}
			for _, id := range tc.not {
				if slices.Contains(got, id) {
					t.Errorf("got %v, want no %s", got, id)
				}
			}
			if tc.want == nil && len(got) != 0 {
				t.Errorf("got %v, want nothing", got)
			}
		})
	}
}

func TestSearchSpans(t *testing.T) {
	text := "今日はＶＣＨＡの構成を試しました。"
	title := "関西国際空港とvSAN 6.6"
	ix := openTest(t, post("p", title, text))
	for _, tc := range []struct {
		query, field, src, want string
	}{
		{"vcha", "text", text, "今日は<mark>ＶＣＨＡ</mark>の構成を試しました。"},
		{"VCHA", "text", text, "今日は<mark>ＶＣＨＡ</mark>の構成を試しました。"},
		{"空港", "title", title, "関西国際<mark>空港</mark>とvSAN 6.6"},
		{`"関西国際空港"`, "title", title, "<mark>関西国際空港</mark>とvSAN 6.6"},
		{`"vSAN 6.6"`, "title", title, "関西国際空港と<mark>vSAN</mark> <mark>6.6</mark>"},
		{"構成", "text", text, "今日はＶＣＨＡの<mark>構成</mark>を試しました。"},
	} {
		t.Run(tc.query, func(t *testing.T) {
			res, err := ix.Search(context.Background(), Request{Query: tc.query})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) != 1 {
				t.Fatalf("got %d hits, want 1", len(res.Hits))
			}
			if got := Highlight(tc.src, res.Hits[0].Spans[tc.field]); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestParseQuery(t *testing.T) {
	w := func(s string) clause { return clause{Text: s} }
	for _, tc := range []struct {
		in   string
		want parsed
	}{
		{"vSAN 重複排除", parsed{{w("vSAN")}, {w("重複排除")}}},
		{`"vSAN 6.6" 新機能`, parsed{{{Text: "vSAN 6.6", Quoted: true}}, {w("新機能")}}},
		{`"unbalanced phrase`, parsed{{{Text: "unbalanced phrase", Quoted: true}}}},
		{"vsan -vxrail", parsed{{w("vsan")}, {{Text: "vxrail", Neg: true}}}},
		{`-"vSAN 6.7"`, parsed{{{Text: "vSAN 6.7", Quoted: true, Neg: true}}}},
		{"a OR b c", parsed{{w("a"), w("b")}, {w("c")}}},
		{"a OR b OR c", parsed{{w("a"), w("b"), w("c")}}},
		{"OR a OR", parsed{{w("a")}}},
		{"a OR -b", parsed{{w("a")}, {{Text: "b", Neg: true}}}},
		{"blog:yellow-bricks lang:ja", parsed{{{Field: "blog", Text: "yellow-bricks"}}, {{Field: "lang", Text: "ja"}}}},
		{"After:2017-09-01 before:2018", parsed{{{Field: "after", Text: "2017-09-01"}}, {{Field: "before", Text: "2018"}}}},
		{"VMware: the story", parsed{{w("VMware:")}, {w("the")}, {w("story")}}},
		{"blog:", parsed{{w("blog:")}}},
		{"vSAN　拡張クラスタ", parsed{{w("vSAN")}, {w("拡張クラスタ")}}},
		{"- a -- b", parsed{{w("-")}, {w("a")}, {w("--")}, {w("b")}}},
		{"  ", nil},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseQuery(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(got, tc.want, func(a, b []clause) bool { return slices.EqualFunc(a, b, sameClause) }) {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func sameClause(a, b clause) bool {
	return a.Text == b.Text && a.Quoted == b.Quoted && a.Neg == b.Neg && a.Field == b.Field
}

func TestBadQuery(t *testing.T) {
	ix := openTest(t, post("a", "VCHA", "ＶＣＨＡの構成"))
	for _, tc := range []struct {
		name string
		r    Request
		bad  bool // wants ErrBadQuery; otherwise an answer
	}{
		{"empty", Request{Query: ""}, true},
		{"invalid utf-8", Request{Query: "vcha \xff\xfe"}, true},
		{"5000 characters", Request{Query: strings.Repeat("あ", 5000)}, true},
		{"thousands of terms", Request{Query: strings.Repeat("vsan ", 2000)}, true},
		{"many terms in one run", Request{Query: strings.Repeat("v-", 100)}, true},
		{"deep nesting", Request{Query: strings.Repeat("(", 500) + "vcha" + strings.Repeat(")", 500)}, false},
		{"unbalanced quote", Request{Query: `"vcha`}, false},
		{"bad date", Request{Query: "vcha after:yesterday"}, true},
		{"date joined with OR", Request{Query: "vcha after:2017-01-01 OR before:2016"}, true},
		{"bad sort", Request{Query: "vcha", Sort: "random"}, true},
		{"negative offset", Request{Query: "vcha", Offset: -1}, true},
		{"huge offset", Request{Query: "vcha", Offset: 1e7}, true},
		{"huge limit", Request{Query: "vcha", Limit: 1e7}, false},
		{"wildcards", Request{Query: "*vc?a~2 /re.*/ ^3"}, false},
		{"only negation", Request{Query: "-vcha"}, false},
		{"control characters", Request{Query: "vcha\x00\x1b[31m"}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ix.Search(context.Background(), tc.r)
			if err == nil && (res.Total > 1 || len(res.Hits) != int(res.Total)) {
				t.Errorf("%d hits of a total of %d, in an index of one post", len(res.Hits), res.Total)
			}
			if tc.bad && !errors.Is(err, vplanet.ErrBadQuery) {
				t.Errorf("got %v, want ErrBadQuery", err)
			}
			if !tc.bad && err != nil {
				t.Errorf("got %v, want an answer", err)
			}
			if err != nil && err.Error() == vplanet.ErrBadQuery.Error() {
				t.Errorf("error %q says nothing about the cause", err)
			}
		})
	}
}

func TestSearchCancelled(t *testing.T) {
	ix := openTest(t, post("a", "VCHA", "x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := ix.Search(ctx, Request{Query: "vcha"}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled search: got %v, want context.Canceled", err)
	}
}

func TestGlossary(t *testing.T) {
	ix := openTest(t,
		post("acronym", "VCHAの構成", "x"),
		post("short", "vCenter HA を試す", "x"),
		post("long", "About vCenter High Availability", "x"),
		post("ha", "HA only", "x"),
	)
	for _, q := range []string{"VCHA", "vCenter HA", "vcenter high availability", "ＶＣＨＡ"} {
		t.Run(q, func(t *testing.T) {
			got := ids(t, ix, Request{Query: q})
			slices.Sort(got)
			if want := []string{"acronym", "long", "short"}; !slices.Equal(got, want) {
				t.Errorf("got %v, want %v", got, want)
			}
		})
	}
	// A quoted phrase means exactly that.
	if got := ids(t, ix, Request{Query: `"vCenter HA"`}); !slices.Equal(got, []string{"short"}) {
		t.Errorf(`"vCenter HA": got %v, want [short]`, got)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{`vSAN "6.6 新機能" -vxrail OR nsx blog:x lang:ja after:2017-01-01`, `"unbalanced`, "a OR OR b", "\xff", "after:2017-02-30 before:1"} {
		f.Add(s)
	}
	an := analyzer(f)
	gloss, err := loadGlossary(an, "")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, q string) {
		p, err := parseQuery(q)
		if err == nil {
			b := &builder{an: an, gloss: gloss, loc: time.UTC}
			_, err = b.build(p)
		}
		if err != nil && !errors.Is(err, vplanet.ErrBadQuery) {
			t.Fatalf("%q: got %v, want nil or ErrBadQuery", q, err)
		}
	})
}

func TestGlossaryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "glossary.txt")
	if err := os.WriteFile(path, []byte("# ours\nVCHA | 可用性構成\nWCP | Workload Control Plane\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ix, err := Open(filepath.Join(t.TempDir(), "index"), Options{GlossaryFile: path})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	err = ix.Apply(context.Background(), []*vplanet.Post{
		{ID: "ja", Title: "可用性構成の手順", Seq: 1, Visible: true},
		{ID: "long", Title: "vCenter High Availability", Seq: 2, Visible: true},
		{ID: "wcp", Title: "Workload Control Plane explained", Seq: 3, Visible: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"vcha", []string{"ja", "long"}}, // the operator's spelling joins the built-in group
		{"wcp", []string{"wcp"}},
	} {
		got := ids(t, ix, Request{Query: tc.q})
		slices.Sort(got)
		if !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.q, got, tc.want)
		}
	}

	if err := os.WriteFile(path, []byte("lonely\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(filepath.Join(t.TempDir(), "index2"), Options{GlossaryFile: path}); err == nil || !strings.Contains(err.Error(), ":1:") {
		t.Errorf("bad glossary: got %v, want an error naming line 1", err)
	}
}
