package index

import (
	"slices"
	"strings"
	"testing"
)

// TestGlossarySpellings checks that the search box's suggestions see the
// built-in glossary's groups as written, then an operator's.
func TestGlossarySpellings(t *testing.T) {
	groups := GlossarySpellings([]byte("# ours\n\nZC | zebracorn | 縞馬一角獣\n"))
	has := func(want []string) bool {
		return slices.ContainsFunc(groups, func(g []string) bool { return slices.Equal(g, want) })
	}
	for _, want := range [][]string{
		{"VCHA", "vCenter HA", "vCenter High Availability"},
		{"ZC", "zebracorn", "縞馬一角獣"},
	} {
		if !has(want) {
			t.Errorf("no group %q among %d groups", want, len(groups))
		}
	}
	if last := groups[len(groups)-1]; last[0] != "ZC" {
		t.Errorf("the operator's group is not last: %q", last)
	}
	lines := 0
	for _, line := range strings.Split(string(builtinGlossary), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			lines++
		}
	}
	if got := len(groups) - 1; got != lines {
		t.Errorf("%d built-in groups, want one per line of glossary.txt: %d", got, lines)
	}
}
