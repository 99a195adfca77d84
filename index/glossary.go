package index

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"io"
	"os"
	"strings"
)

//go:embed glossary.txt
var builtinGlossary []byte

// maxGlossaryWords bounds the run of query words compared with the glossary.
const maxGlossaryWords = 6

// glossary maps each spelling of a term to the group of all its spellings.
type glossary struct {
	groups [][]spelling
	byKey  map[string]int // spelling key → group
}

// spelling is one way of writing a glossary term, analysed.
type spelling struct {
	text      string
	positions [][]string
	terms     int
}

// loadGlossary reads the built-in glossary and, if path is not empty, the
// operator's.
func loadGlossary(an *textAnalyzer, path string) (*glossary, error) {
	g := &glossary{byKey: map[string]int{}}
	if err := g.read(an, "glossary.txt", builtinGlossary); err != nil {
		return nil, err
	}
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("read glossary: %w", err)
		}
		defer f.Close()
		b, err := readAll(f, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("read glossary %s: %w", path, err)
		}
		if err := g.read(an, path, b); err != nil {
			return nil, err
		}
	}
	return g, nil
}

func (g *glossary) read(an *textAnalyzer, name string, b []byte) error {
	sc := bufio.NewScanner(bytes.NewReader(b))
	line := 0
	for sc.Scan() {
		line++
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		var group []spelling
		for _, alt := range strings.Split(s, "|") {
			alt = strings.TrimSpace(alt)
			pos, terms := positions(searchable(an.Analyze(alt)))
			if terms == 0 {
				continue
			}
			group = append(group, spelling{text: alt, positions: pos, terms: terms})
		}
		if len(group) < 2 {
			return fmt.Errorf("glossary %s:%d: want two or more spellings separated by \"|\"", name, line)
		}
		// A spelling in several groups (a later file extending an earlier
		// one) joins them.
		id := len(g.groups)
		for _, sp := range group {
			if old, ok := g.byKey[key(sp.positions)]; ok {
				id = old
			}
		}
		if id == len(g.groups) {
			g.groups = append(g.groups, nil)
		}
		for _, sp := range group {
			k := key(sp.positions)
			if _, ok := g.byKey[k]; ok {
				continue
			}
			g.byKey[k] = id
			g.groups[id] = append(g.groups[id], sp)
		}
	}
	return sc.Err()
}

// lookup returns the group whose spelling has these positions.
func (g *glossary) lookup(pos [][]string) ([]spelling, bool) {
	if g == nil || len(pos) == 0 {
		return nil, false
	}
	id, ok := g.byKey[key(pos)]
	if !ok {
		return nil, false
	}
	return g.groups[id], true
}

// key identifies analysed text by the term at each position that is not a
// compound's whole; gaps (stop words) do not count.
func key(pos [][]string) string {
	var b strings.Builder
	for _, alts := range pos {
		if len(alts) == 0 || alts[0] == "" {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(alts[len(alts)-1])
	}
	return b.String()
}

// positions groups tokens by position, relative to the first: the terms at
// one position are alternatives, a position without terms is a gap. It
// also returns the number of terms.
func positions(toks []token) ([][]string, int) {
	if len(toks) == 0 {
		return nil, 0
	}
	first := toks[0].Position
	var pos [][]string
	for _, t := range toks {
		i := t.Position - first
		for len(pos) <= i {
			pos = append(pos, nil)
		}
		pos[i] = append(pos[i], t.Term)
	}
	return pos, len(toks)
}

// readAll is io.ReadAll bounded at max bytes.
func readAll(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return b, nil
}
