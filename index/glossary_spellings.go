package index

import (
	"bufio"
	"bytes"
	"strings"
)

// GlossarySpellings returns the spellings of the built-in glossary's
// groups, then those of operator (the text of an operator's glossary file,
// nil for none), one slice a group, as written: the words a search box can
// suggest. Unlike Open, it neither analyses nor checks them; a file Open
// refuses is refused there.
func GlossarySpellings(operator []byte) [][]string {
	return append(spellingGroups(builtinGlossary), spellingGroups(operator)...)
}

// spellingGroups splits a glossary's text into its groups' spellings.
func spellingGroups(b []byte) [][]string {
	var groups [][]string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var g []string
		for _, w := range strings.Split(line, "|") {
			if w = strings.TrimSpace(w); w != "" {
				g = append(g, w)
			}
		}
		if len(g) > 0 {
			groups = append(groups, g)
		}
	}
	return groups
}
