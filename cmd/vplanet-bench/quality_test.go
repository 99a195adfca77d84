package main

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// qualityRun runs the -quality mode with args and returns its report.
func qualityRun(t *testing.T, args ...string) *qualityReport {
	t.Helper()
	var stderr bytes.Buffer
	p, err := parseParams(append([]string{"-quality", "-quality-out", ""}, args...), &stderr)
	if err != nil {
		t.Fatal(err)
	}
	cwd, _ := os.Getwd()
	root, err := moduleRoot(context.Background(), cwd)
	if err != nil {
		t.Fatal(err)
	}
	if p.corpus == "" {
		p.corpus = corpusDir
	}
	rep, err := measureQuality(context.Background(), p, root, &stderr)
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return rep
}

// checkFloors checks vplanet's figures on each set against what it reached
// when the measure was written (see docs/search-quality.md): at least the
// floor, or at most it where lower wins.
func checkFloors(t *testing.T, rep *qualityReport, floors map[string]float64) {
	t.Helper()
	for _, s := range rep.sets {
		if len(s.queries) == 0 {
			t.Errorf("%s: no queries generated", s.name)
			continue
		}
		f, ok := rep.figure(s.name, "vplanet")
		if !ok || !f.ok {
			t.Fatalf("%s: vplanet not measured", s.name)
		}
		floor, ok := floors[s.name]
		if !ok {
			t.Fatalf("%s: no floor", s.name)
		}
		if s.lowerWins && f.value > floor || !s.lowerWins && f.value < floor {
			t.Errorf("%s: vplanet %.3f, want %s %.3f", s.name, f.value, map[bool]string{true: "≤", false: "≥"}[s.lowerWins], floor)
		}
	}
	md := rep.markdown()
	for _, s := range rep.sets {
		if !strings.Contains(md, "| "+s.name+" |") {
			t.Errorf("the table has no row for %s:\n%s", s.name, md)
		}
	}
}

// checkAgainstGroonga checks the targets against Groonga: more word-cutting
// fragments find their post, and no more top-10 hits hold a word only
// inside a longer one.
func checkAgainstGroonga(t *testing.T, rep *qualityReport) {
	t.Helper()
	v, _ := rep.figure(setCut, "vplanet")
	g, ok := rep.figure(setCut, "Groonga")
	if !ok || !g.ok {
		t.Fatalf("Groonga not measured: %v", rep.notes)
	}
	if v.value <= g.value {
		t.Errorf("cut fragments: vplanet %.3f, Groonga %.3f: want vplanet above", v.value, g.value)
	}
	v, _ = rep.figure(setPartWord, "vplanet")
	g, _ = rep.figure(setPartWord, "Groonga")
	if v.value > g.value {
		t.Errorf("part of a word: vplanet %.3f, Groonga %.3f: want vplanet at or below", v.value, g.value)
	}
}

// fixtureFloors are vplanet's figures on the fixtures.
var fixtureFloors = map[string]float64{
	setCut: 0.81, setAligned: 1, setPartWord: 0, setStopPhrase: 1, setVariant: 1, setPrefix: 1, setRareNouns: 0.96,
}

// TestQualityFixtures runs the measure on the committed fixtures with
// vplanet alone.
func TestQualityFixtures(t *testing.T) {
	rep := qualityRun(t, "-quality-fixtures", "-groonga=false")
	if rep.posts < 20 || rep.en == 0 {
		t.Fatalf("%d posts, %d English: want ≥ 20, some English", rep.posts, rep.en)
	}
	checkFloors(t, rep, fixtureFloors)
}

// TestQualityFixturesGroonga runs the measure on the fixtures with Groonga
// beside vplanet and checks the targets.
func TestQualityFixturesGroonga(t *testing.T) {
	if _, err := exec.LookPath("groonga"); err != nil {
		t.Skip("groonga not found: apt-get install groonga-bin groonga-tokenizer-mecab mecab-ipadic-utf8")
	}
	rep := qualityRun(t, "-quality-fixtures")
	checkFloors(t, rep, fixtureFloors)
	checkAgainstGroonga(t, rep)
}

// TestQualityCorpus runs the measure on the shared corpus, with Groonga
// when it is installed.
func TestQualityCorpus(t *testing.T) {
	if testing.Short() {
		t.Skip("indexes the corpus twice; skipped with -short")
	}
	if _, err := corpusPosts(corpusDir); errors.Is(err, errNoCorpus) {
		t.Skipf("corpus not found at %s: the fixtures' test covers the measure", corpusDir)
	}
	_, err := exec.LookPath("groonga")
	rep := qualityRun(t, "-groonga="+map[bool]string{true: "true", false: "false"}[err == nil])
	checkFloors(t, rep, map[string]float64{
		setCut: 0.82, setAligned: 0.93, setPartWord: 0, setStopPhrase: 0.99, setVariant: 1, setPrefix: 0.96, setRareNouns: 0.985,
	})
	if err == nil {
		checkAgainstGroonga(t, rep)
	}
}

// TestFragmentRule checks which pieces count as cut and which as aligned.
func TestFragmentRule(t *testing.T) {
	seg, err := newSegmenter()
	if err != nil {
		t.Fatal(err)
	}
	text := "仮想マシンのストレージポリシーの設定を変更してから待ちました"
	ws := seg.words(text)
	bounds := map[int]bool{}
	for _, w := range ws {
		bounds[w.start], bounds[w.start+len(w.surface)] = true, true
	}
	for range 20 {
		cut, aligned := fragments(text, ws, rand.New(rand.NewPCG(uint64(len(bounds)), 1)))
		for _, tc := range []struct {
			name, piece string
			atBounds    bool
		}{{"cut", cut, false}, {"aligned", aligned, true}} {
			i := strings.Index(text, tc.piece)
			if tc.piece == "" || i < 0 || len([]rune(tc.piece)) != 12 {
				t.Fatalf("%s: got %q, want 12 characters of the text", tc.name, tc.piece)
			}
			if bounds[i] != tc.atBounds || bounds[i+len(tc.piece)] != tc.atBounds {
				t.Errorf("%s: %q starts or ends at the wrong place", tc.name, tc.piece)
			}
		}
	}
}

func TestHalfWidth(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"オペレーター", "ｵﾍﾟﾚｰﾀｰ"},
		{"サーバー", "ｻｰﾊﾞｰ"},
		{"ポリシー", "ﾎﾟﾘｼｰ"},
	} {
		if got := halfWidth(tc.in); got != tc.want {
			t.Errorf("halfWidth(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
