package index_test

// These tests reach the glossary only through what every caller of index
// sees (Open, Apply, Search), so that they hold whatever shape the
// package's insides take.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vplanet"
	"vplanet/index"
)

// glossGroups reads glossary.txt with a parser of its own: each group is
// its spellings as written, and line is where it stands.
type glossGroup struct {
	line      int
	spellings []string
}

func glossGroups(t testing.TB) []glossGroup {
	t.Helper()
	f, err := os.Open("glossary.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var groups []glossGroup
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		g := glossGroup{line: n}
		for alt := range strings.SplitSeq(s, "|") {
			g.spellings = append(g.spellings, strings.TrimSpace(alt))
		}
		groups = append(groups, g)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return groups
}

// glossIndex opens a fresh index in a temporary directory and applies
// posts to it, numbering their Seq in order.
func glossIndex(t testing.TB, posts []*vplanet.Post) *index.Index {
	t.Helper()
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ix.Close() })
	for i, p := range posts {
		p.Seq, p.Visible = int64(i+1), true
	}
	if err := ix.Apply(context.Background(), posts); err != nil {
		t.Fatal(err)
	}
	return ix
}

// glossSearch returns every hit of q (up to 100).
func glossSearch(t testing.TB, ix *index.Index, q string) *index.Result {
	t.Helper()
	res, err := ix.Search(context.Background(), index.Request{Query: q, Limit: 100, Facets: true})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	return res
}

// TestGlossaryParses opens an index, which reads the built-in glossary, and
// checks each line with a parser of its own: two or more spellings, none
// empty, none written twice in the file (case and spaces aside).
func TestGlossaryParses(t *testing.T) {
	ix, err := index.Open(filepath.Join(t.TempDir(), "index"), index.Options{})
	if err != nil {
		t.Fatalf("the built-in glossary does not load: %v", err)
	}
	ix.Close()
	seen := map[string]int{}
	for _, g := range glossGroups(t) {
		if len(g.spellings) < 2 {
			t.Errorf("glossary.txt:%d: %d spelling, want two or more", g.line, len(g.spellings))
		}
		for _, s := range g.spellings {
			if s == "" {
				t.Errorf("glossary.txt:%d: an empty spelling", g.line)
				continue
			}
			k := strings.ToLower(strings.Join(strings.Fields(s), " "))
			if line, ok := seen[k]; ok {
				t.Errorf("glossary.txt:%d: %q is also on line %d", g.line, s, line)
			}
			seen[k] = g.line
		}
	}
}

// TestGlossaryUnambiguous indexes every spelling of the glossary as a post
// of its own, then asks for each spelling. A spelling must find the posts
// of all the spellings of its group (the query is read through the
// glossary, and an analysis that drops a spelling, or reads it otherwise in
// a query than in a post, shows here). Two groups whose queries each find
// all the other's posts have been joined: a spelling analyses alike in
// both (a case, width, stem or long-vowel variant, or a word that differs
// only by a stop word), and the loader merges such groups silently.
func TestGlossaryUnambiguous(t *testing.T) {
	groups := glossGroups(t)
	var posts []*vplanet.Post
	owner := map[string]int{} // post ID → group
	for gi, g := range groups {
		for si, s := range g.spellings {
			id := fmt.Sprintf("%d/%d", g.line, si)
			lang := "en"
			if japanese(s) {
				lang = "ja"
			}
			posts = append(posts, &vplanet.Post{ID: id, Lang: lang, Text: s})
			owner[id] = gi
		}
	}
	ix := glossIndex(t, posts)
	found := make([]map[string]bool, len(groups)) // by the group's first spelling
	for gi, g := range groups {
		for si, s := range g.spellings {
			hits := map[string]bool{}
			for offset := 0; ; offset += 100 {
				res, err := ix.Search(context.Background(), index.Request{Query: s, Limit: 100, Offset: offset})
				if err != nil {
					t.Fatalf("glossary.txt:%d: search %q: %v", g.line, s, err)
				}
				for _, h := range res.Hits {
					hits[h.ID] = true
				}
				if uint64(offset+100) >= res.Total {
					break
				}
			}
			for sj, other := range g.spellings {
				if !hits[fmt.Sprintf("%d/%d", g.line, sj)] {
					t.Errorf("glossary.txt:%d: %q does not find a post that says %q", g.line, s, other)
				}
			}
			if si == 0 {
				found[gi] = hits
			}
		}
	}
	all := func(hits map[string]bool, g glossGroup) bool {
		for si := range g.spellings {
			if !hits[fmt.Sprintf("%d/%d", g.line, si)] {
				return false
			}
		}
		return true
	}
	for i := range groups {
		for j := i + 1; j < len(groups); j++ {
			if all(found[i], groups[j]) && all(found[j], groups[i]) {
				t.Errorf("glossary.txt:%d and :%d are one group to search (%q, %q): a spelling analyses alike in both",
					groups[i].line, groups[j].line, groups[i].spellings[0], groups[j].spellings[0])
			}
		}
	}
}

// glossFixtures indexes the posts of testdata/glossary: a file is a post,
// its first line the title, its name (without .txt) the ID and, up to the
// first "-", the language.
func glossFixtures(t testing.TB) (*index.Index, map[string]*vplanet.Post) {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join("testdata", "glossary", "*.txt"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no posts in testdata/glossary: %v", err)
	}
	var posts []*vplanet.Post
	byID := map[string]*vplanet.Post{}
	for _, path := range paths {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		id := strings.TrimSuffix(filepath.Base(path), ".txt")
		lang, _, _ := strings.Cut(id, "-")
		title, text, _ := strings.Cut(string(b), "\n")
		p := &vplanet.Post{ID: id, Lang: lang, BlogSlug: "fixtures", Title: title, Text: text}
		posts = append(posts, p)
		byID[id] = p
	}
	return glossIndex(t, posts), byID
}

func glossHits(t testing.TB, ix *index.Index, q string) map[string]bool {
	t.Helper()
	hits := map[string]bool{}
	for _, h := range glossSearch(t, ix, q).Hits {
		hits[h.ID] = true
	}
	return hits
}

// TestGlossaryAcrossLanguages searches in one language for a post written
// in the other. Each query is a glossary spelling; quoted, it is left as
// written, and then it must not find the post: the glossary alone links
// them.
func TestGlossaryAcrossLanguages(t *testing.T) {
	ix, posts := glossFixtures(t)
	cases := []struct{ name, query, post string }{
		// Storage.
		{"en to ja/dedupe", "dedupe", "ja-vsan-space"},
		{"en to ja/compression", "compression", "ja-vsan-space"},
		{"en to ja/stretched cluster", "stretched cluster", "ja-vsan-space"},
		{"en to ja/witness host", "witness host", "ja-vsan-space"},
		{"en to ja/fault domain", "fault domain", "ja-vsan-space"},
		{"en to ja/erasure coding", "erasure coding", "ja-vsan-space"},
		{"en to ja/resync", "resynchronization", "ja-vsan-space"},
		{"en to ja/snapshot", "snapshots", "ja-snapshot-backup"},
		{"en to ja/datastore", "datastore", "ja-snapshot-backup"},
		{"en to ja/thin provisioning", "thin provisioning", "ja-snapshot-backup"},
		{"en to ja/virtual machine", "virtual machine", "ja-snapshot-backup"},
		{"ja to en/重複排除", "重複排除", "en-vsan-dedupe"},
		{"ja to en/デデュープ", "デデュープ", "en-vsan-dedupe"},
		{"ja to en/圧縮", "圧縮", "en-vsan-dedupe"},
		{"ja to en/オールフラッシュ", "オールフラッシュ", "en-vsan-dedupe"},
		{"ja to en/キャッシュ層", "キャッシュ層", "en-vsan-dedupe"},
		{"ja to en/容量層", "容量層", "en-vsan-dedupe"},
		{"ja to en/ディスクグループ", "ディスクグループ", "en-vsan-dedupe"},
		{"ja to en/ストレージポリシー", "ストレージポリシー", "en-vsan-dedupe"},
		{"ja to en/拡張クラスタ", "拡張クラスタ", "en-stretched"},
		{"ja to en/ストレッチクラスタ", "ストレッチクラスタ", "en-stretched"},
		{"ja to en/ウィットネスアプライアンス", "ウィットネスアプライアンス", "en-stretched"},
		{"ja to en/レイテンシー", "レイテンシー", "en-stretched"},
		{"ja to en/スナップショット", "スナップショット", "en-snapshot"},
		{"ja to en/バックアップ", "バックアップ", "en-snapshot"},
		{"ja to en/リストア", "リストア", "en-snapshot"},
		{"ja to en/コンテンツライブラリ", "コンテンツライブラリ", "en-migration"},
		{"ja to en/仮想マシンテンプレート", "仮想マシンテンプレート", "en-migration"},
		{"ja to en/ストレージコントローラー", "ストレージコントローラー", "en-troubleshooting"},
		{"ja to en/差分ディスク", "差分ディスク", "en-snapshot"},
		{"ja to en/ストレージ vMotion", "ストレージ vMotion", "en-migration"},

		// Network.
		{"en to ja/distributed switch", "distributed switch", "ja-vds"},
		{"en to ja/VDS", "VDS", "ja-vds"},
		{"en to ja/port group", "portgroup", "ja-vds"},
		{"en to ja/uplink", "uplinks", "ja-vds"},
		{"en to ja/NIC teaming", "NIC teaming", "ja-vds"},
		{"en to ja/jumbo frame", "jumbo frames", "ja-vds"},
		{"en to ja/VMkernel adapter", "VMkernel adapter", "ja-vds"},
		{"en to ja/distributed firewall", "DFW", "ja-nsx-security"},
		{"en to ja/micro-segmentation", "micro-segmentation", "ja-nsx-security"},
		{"en to ja/logical switch", "logical switch", "ja-nsx-security"},
		{"en to ja/transport zone", "transport zone", "ja-nsx-security"},
		{"en to ja/transport node", "transport node", "ja-nsx-security"},
		{"en to ja/overlay", "overlay", "ja-nsx-security"},
		{"en to ja/Edge node", "Edge node", "ja-nsx-security"},
		{"ja to en/Tier-0 ゲートウェイ", "Tier-0 ゲートウェイ", "en-nsx-t"},
		{"ja to en/エッジクラスタ", "エッジクラスタ", "en-nsx-t"},
		{"ja to en/負荷分散", "負荷分散", "en-nsx-t"},
		{"ja to en/ロードバランサー", "ロードバランサー", "en-nsx-t"},

		// Availability and recovery.
		{"en to ja/High Availability", "High Availability", "ja-ha"},
		{"en to ja/admission control", "admission control", "ja-ha"},
		{"en to ja/failover", "failover", "ja-ha"},
		{"en to ja/heartbeat", "heartbeat", "ja-ha"},
		{"en to ja/host isolation", "host isolation", "ja-ha"},
		{"en to ja/maintenance mode", "maintenance mode", "ja-ha"},
		{"en to ja/disaster recovery", "disaster recovery", "ja-dr"},
		{"en to ja/replication", "replication", "ja-dr"},
		{"en to ja/RPO", "RPO", "ja-dr"},
		{"en to ja/failback", "failback", "ja-dr"},
		{"en to ja/ransomware", "ransomware", "ja-dr"},
		{"ja to en/スプリットブレイン", "スプリットブレイン", "en-stretched"},
		{"ja to en/クォーラム", "クォーラム", "en-stretched"},

		// Operations and security.
		{"en to ja/monitoring", "monitoring", "ja-operations"},
		{"en to ja/alarm", "alarms", "ja-operations"},
		{"en to ja/threshold", "threshold", "ja-operations"},
		{"en to ja/dashboard", "dashboard", "ja-operations"},
		{"en to ja/encryption", "encryption", "ja-security"},
		{"en to ja/Key Management Server", "Key Management Server", "ja-security"},
		{"en to ja/vTPM", "vTPM", "ja-security"},
		{"en to ja/Secure Boot", "Secure Boot", "ja-security"},
		{"en to ja/vulnerability", "vulnerability", "ja-security"},
		{"en to ja/patch", "patch", "ja-security"},
		{"ja to en/キャパシティプランニング", "キャパシティプランニング", "en-aria"},
		{"ja to en/ライトサイジング", "ライトサイジング", "en-aria"},
		{"ja to en/メトリクス", "メトリクス", "en-aria"},
		{"ja to en/ベースライン", "ベースライン", "en-aria"},
		{"ja to en/トラブルシューティング", "トラブルシューティング", "en-troubleshooting"},
		{"ja to en/パープルスクリーン", "パープルスクリーン", "en-troubleshooting"},
		{"ja to en/コアダンプ", "コアダンプ", "en-troubleshooting"},
		{"ja to en/根本原因", "根本原因", "en-troubleshooting"},
		{"ja to en/ファームウェア", "ファームウェア", "en-troubleshooting"},
		{"ja to en/互換性ガイド", "互換性ガイド", "en-troubleshooting"},
		{"ja to en/vモーション", "vモーション", "en-migration"},
		{"ja to en/コールドマイグレーション", "コールドマイグレーション", "en-migration"},
		{"ja to en/自宅ラボ", "自宅ラボ", "en-homelab"},
		{"ja to en/ネステッド ESXi", "ネステッド ESXi", "en-homelab"},
		{"ja to en/ハイパーバイザー", "ハイパーバイザー", "en-homelab"},
		{"ja to en/ゲスト OS", "ゲストOS", "en-homelab"},
		{"ja to en/仮想 CPU", "仮想CPU", "en-homelab"},
		{"ja to en/パススルー", "パススルー", "en-homelab"},
		{"ja to en/基調講演", "基調講演", "en-vmworld"},
		{"ja to en/ジェネラルセッション", "ジェネラルセッション", "en-vmworld"},
		{"ja to en/ソリューションエクスチェンジ", "ソリューションエクスチェンジ", "en-vmworld"},
		{"ja to en/ハンズオンラボ", "ハンズオンラボ", "en-vmworld"},

		// Tanzu and VCF.
		{"en to ja/Supervisor Cluster", "Supervisor Cluster", "ja-tanzu"},
		{"en to ja/namespace", "namespace", "ja-tanzu"},
		{"en to ja/control plane", "control plane", "ja-tanzu"},
		{"en to ja/Tanzu Kubernetes cluster", "TKC", "ja-tanzu"},
		{"en to ja/worker node", "worker nodes", "ja-tanzu"},
		{"en to ja/workload domain", "workload domain", "ja-vcf"},
		{"en to ja/management domain", "management domain", "ja-vcf"},
		{"en to ja/lifecycle management", "lifecycle management", "ja-vcf"},
		{"ja to en/vSphere ポッド", "vSphere ポッド", "en-tanzu"},
		{"ja to en/クバネティス", "クバネティス", "en-tanzu"},
		{"ja to en/イメージレジストリ", "イメージレジストリ", "en-tanzu"},

		// Horizon.
		{"en to ja/Connection Server", "Connection Server", "ja-horizon"},
		{"en to ja/instant clone", "instant clones", "ja-horizon"},
		{"en to ja/desktop pool", "desktop pool", "ja-horizon"},
		{"en to ja/golden image", "master image", "ja-horizon"},
		{"ja to en/シンクライアント", "シンクライアント", "en-horizon"},
		{"ja to en/ゼロクライアント", "ゼロクライアント", "en-horizon"},
		{"ja to en/リモートデスクトップセッションホスト", "リモートデスクトップセッションホスト", "en-horizon"},
		{"ja to en/公開アプリケーション", "公開アプリケーション", "en-horizon"},

		// Licensing.
		{"en to ja/licence", "licence", "ja-license"},
		{"en to ja/subscription", "subscription", "ja-license"},
		{"en to ja/perpetual license", "perpetual licence", "ja-license"},
		{"en to ja/license key", "license key", "ja-license"},
		{"en to ja/per-core licensing", "per-core licensing", "ja-license"},
		{"en to ja/evaluation mode", "evaluation mode", "ja-license"},
		{"ja to en/ライセンス", "ライセンス", "en-licensing"},
		{"ja to en/サブスクリプション", "サブスクリプション", "en-licensing"},
		{"ja to en/エンタープライズプラス", "エンタープライズプラス", "en-licensing"},
		{"ja to en/ジェネラルサポート終了", "ジェネラルサポート終了", "en-licensing"},
		{"ja to en/vSphere Foundation", "VVF", "en-licensing"},
		{"ja to en/アップグレード", "アップグレード", "en-licensing"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if posts[tc.post] == nil {
				t.Fatalf("no post %s in testdata/glossary", tc.post)
			}
			if hits := glossHits(t, ix, tc.query); !hits[tc.post] {
				t.Errorf("%s does not find %s", tc.query, tc.post)
			}
			if hits := glossHits(t, ix, `"`+tc.query+`"`); hits[tc.post] {
				t.Errorf(`"%s", as written, finds %s: the post does not test the glossary`, tc.query, tc.post)
			}
		})
	}

	// The cases cover the glossary's breadth in both directions.
	groups := glossGroups(t)
	covered := map[string]map[int]bool{"en to ja": {}, "ja to en": {}}
	for _, tc := range cases {
		dir, _, _ := strings.Cut(tc.name, "/")
		if g := glossGroupOf(groups, tc.query); g >= 0 {
			covered[dir][g] = true
		}
	}
	for dir, gs := range covered {
		t.Logf("%s: %d groups", dir, len(gs))
		if len(gs) < 30 {
			t.Errorf("%s: the cases cover %d groups, want 30 or more", dir, len(gs))
		}
	}
}

// glossGroupOf returns the line of the group that has q as a spelling
// (case and spaces aside), or -1.
func glossGroupOf(groups []glossGroup, q string) int {
	norm := func(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), "")) }
	for _, g := range groups {
		for _, s := range g.spellings {
			if norm(s) == norm(q) {
				return g.line
			}
		}
	}
	return -1
}

// TestGlossaryFalseFriends holds the words found in the corpus (or known
// in VMware's blogs) that look like a glossary spelling but mean something
// else: none of a case's queries may find its post, although the post is
// found by the word it holds.
func TestGlossaryFalseFriends(t *testing.T) {
	ix, posts := glossFixtures(t)
	for _, tc := range []struct {
		name    string
		queries []string
		post    string
		word    string // the look-alike, as the post writes it
	}{
		{"Log Insight is not CloudWatch Logs Insights", []string{"vRLI", "Aria Operations for Logs", "VCF Operations for logs", "vRealize Log Insight"}, "en-logs-insights", "Logs Insights"},
		{"a witness host is not a monitored host", []string{"witness host", "ウィットネスホスト", "vSAN witness"}, "ja-monitored-host", "監視ホスト"},
		{"link aggregation is not replica lag", []string{"link aggregation", "リンクアグリゲーション", "Link Aggregation Group"}, "en-replica-lag", "lag"},
		{"intrusion detection is not IDs", []string{"intrusion detection", "侵入検知"}, "en-api-ids", "IDs"},
		{"NIC teaming is not Microsoft Teams", []string{"NIC teaming", "NIC チーミング"}, "en-teams", "Teams"},
		{"routing is not Route 53", []string{"ルーティング"}, "en-route53", "routes"},
		{"a container is not what a response contains", []string{"コンテナ"}, "en-contains", "contains"},
		{"an edition is not an edit", []string{"エディション"}, "en-edit", "edit"},
		{"performance is not perform", []string{"パフォーマンス"}, "en-perform", "perform"},
		{"availability is not available", []string{"可用性", "高可用性"}, "en-available", "available"},
		{"a certificate is not a certification", []string{"証明書", "SSL 証明書", "TLS 証明書", "認証局"}, "en-certification", "certification"},
		{"a vSAN witness is not witnessed", []string{"ウィットネス", "vSAN ウィットネス", "witness host", "witness appliance"}, "en-witnessed", "witnessed"},
		{"a standard switch is not Volume Shadow Copy", []string{"標準スイッチ", "Standard Switch", "vSphere Standard Switch"}, "en-shadow-copy", "VSS"},
		{"Tanzu's workload management is not Redshift's", []string{"ワークロード管理"}, "en-redshift-wlm", "workload management"},
		{"all-flash is not the Flash client", []string{"オールフラッシュ", "all-flash"}, "en-flash-client", "Flash"},
		{"Dynamic Environment Manager is not Workspace ONE UEM", []string{"Dynamic Environment Manager", "DEM", "User Environment Manager"}, "en-uem", "UEM"},
		{"RDSH is not an Amazon RDS host", []string{"RDSH", "リモートデスクトップセッションホスト", "Remote Desktop Session Host"}, "en-rds-host", "RDS host"},
		{"Kubernetes' Ingress is not ingress traffic", []string{"イングレス"}, "en-ingress-traffic", "ingress"},
		{"bring-up is not bring up", []string{"ブリングアップ"}, "en-bring-up", "bring up"},
		{"the compatibility guide is not Terraform's HCL", []string{"互換性ガイド", "Hardware Compatibility List", "VMware Compatibility Guide"}, "en-terraform-hcl", "HCL"},
		{"end of general support is not end-user support", []string{"end of general support", "ジェネラルサポート終了", "EoGS"}, "en-end-user-support", "end-user support"},
		{"Path Selection Policy is not the game console", []string{"Path Selection Policy", "パス選択ポリシー"}, "ja-psp", "PSP"},
		{"a subscription is not a social network", []string{"subscription", "サブスクリプション", "Support and Subscription"}, "ja-sns", "SNS"},
		{"the novel's 保護, 監督 and 評価 are not VMware's", []string{"data protection", "データ保護", "Supervisor Cluster", "vSphere Supervisor", "monitoring", "evaluation mode", "評価モード"}, "ja-bocchan", "監督"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if posts[tc.post] == nil {
				t.Fatalf("no post %s in testdata/glossary", tc.post)
			}
			if !glossHits(t, ix, `"`+tc.word+`"`)[tc.post] {
				t.Fatalf("%q does not find %s, which says it", tc.word, tc.post)
			}
			for _, q := range tc.queries {
				if glossHits(t, ix, q)[tc.post] {
					t.Errorf("%s finds %s, where %q means something else", q, tc.post, tc.word)
				}
			}
		})
	}
}

// BenchmarkGlossarySearch times searches over the bilingual posts whose
// words the glossary reads: an acronym, a Japanese term, and a query of
// many words, each run of which (up to six words) is looked up.
func BenchmarkGlossarySearch(b *testing.B) {
	ix, _ := glossFixtures(b)
	for _, q := range []string{
		"VCHA",
		"重複排除",
		"stretched cluster witness appliance quorum split brain latency",
	} {
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if _, err := ix.Search(context.Background(), index.Request{Query: q}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkGlossaryOpen times opening an index, which analyses every
// spelling of the built-in glossary (the dictionary is loaded once, before
// the timer starts).
func BenchmarkGlossaryOpen(b *testing.B) {
	dir := b.TempDir()
	ix, err := index.Open(filepath.Join(dir, "index"), index.Options{})
	if err != nil {
		b.Fatal(err)
	}
	ix.Close()
	for b.Loop() {
		ix, err := index.Open(filepath.Join(dir, "index"), index.Options{})
		if err != nil {
			b.Fatal(err)
		}
		ix.Close()
	}
}

// FuzzGlossaryFile opens an index with an operator's glossary of any
// content: it loads, or says which line it cannot read; and every spelling
// of a file that loads can be searched for.
func FuzzGlossaryFile(f *testing.F) {
	for _, s := range []string{
		"ZC | zebracorn | 縞馬一角獣\n",
		"# only a comment\n\n",
		"lonely\n",
		"a | | b\n| |\n",
		"VCHA | 可用性構成\nvCenter HA | VCHA\n",
		"the | of | and\n",
		"ＶＣＨＡ | ｶﾞｲﾄﾞ | \xff\xfe\n",
		"\"quoted\" | -neg | lang:ja | a OR b\n",
	} {
		f.Add(s)
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content string) {
		path := filepath.Join(t.TempDir(), "glossary.txt")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		ix, err := index.Open(filepath.Join(dir, "index"), index.Options{GlossaryFile: path})
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		defer ix.Close()
		for line := range strings.Lines(content) {
			for s := range strings.SplitSeq(line, "|") {
				if _, err := ix.Search(context.Background(), index.Request{Query: s}); err != nil && !errors.Is(err, vplanet.ErrBadQuery) {
					t.Fatalf("search %q: %v", s, err)
				}
			}
		}
	})
}
