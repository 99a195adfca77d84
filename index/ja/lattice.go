// The lattice build and the forward pass below restructure those of kagome
// (github.com/ikawaha/kagome/v2, tokenizer/lattice, v2.10.3): its node
// classes, its constants, search mode's penalties, the unknown-word
// grouping and the order in which predecessors are tried; the walk of the
// dictionary's double array follows kagome-dict's CommonPrefixSearch
// (github.com/ikawaha/kagome-dict, dict/trie, v1.1.7). Both are
// distributed under the MIT License:
//
// Copyright (c) 2020 ikawaha (kagome); Copyright (c) 2021 ikawaha (kagome-dict)
//
// Permission is hereby granted, free of charge, to any person obtaining a copy
// of this software and associated documentation files (the "Software"), to deal
// in the Software without restriction, including without limitation the rights
// to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
// copies of the Software, and to permit persons to whom the Software is
// furnished to do so, subject to the following conditions:
//
// The above copyright notice and this permission notice shall be included in all
// copies or substantial portions of the Software.
//
// THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
// IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
// FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
// AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
// LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
// OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
// SOFTWARE.

package ja

import (
	"fmt"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome-dict/ipa"
)

// A Morphology splits a run of Japanese into morphemes with kagome's IPA
// dictionary, exactly as kagome's tokenizer does in search mode, in less
// time (BenchmarkSegment compares the two).
//
// kagome builds a lattice of every dictionary word and unknown-word
// candidate that starts at each character, then runs Viterbi over it: a
// node's cost is its word cost plus the cheapest of its predecessors' costs
// plus the connection cost between the two; search mode adds to a
// predecessor's cost a penalty for being long. kagome takes each node from
// a sync.Pool, links the lattice with pointers, works each predecessor's
// penalty out again for every node that follows it and looks up each
// dictionary match's duplicates in a map: much of its time (the pool alone
// was a large part of a rebuild's CPU profile), none of which changes the
// answer. A Morphology keeps the same lattice in one reused slice, computes a node's
// cost as soon as the node is made (its predecessors, which all end where
// it starts, are final by then), a node's penalty once, and the duplicates
// in a slice; predecessors are tried in kagome's order and the first
// cheapest wins, so ties fall as kagome's do. TestMorphologyMatchesKagome
// and FuzzSegment check the two against each other, token for token.
type Morphology struct {
	d *dict.Dict
	// dup[id] is how many entries after id share its spelling.
	dup []uint8
	// unkID and unkDup are the unknown-word entries of a character class.
	unkID, unkDup []int32
	// skip and inflected say, by name in the part-of-speech table, which
	// first-level parts of speech are not indexed and which are indexed
	// by base form.
	skip, inflected []bool
	// forms gives the base forms of known words; unkBase is the index of
	// the base form among an unknown word's features, -1 for none.
	forms   *baseForms
	unkBase int
	scratch sync.Pool
}

// A Morpheme is one word of a run of Japanese.
type Morpheme struct {
	Offset  int    // in bytes, in the run
	Surface string // the run's bytes
	Skip    bool   // a particle, auxiliary verb, symbol and the like: not indexed
	Base    string // the base form of an inflected word (a verb, an adjective), else ""
}

// The node classes, as kagome numbers them.
const (
	classDummy = iota
	classKnown
	classUnknown
)

// kagome's constants.
const (
	maximumCost              = 1<<31 - 1
	maximumUnknownWordLength = 1024
	searchKanjiLength        = 2 // characters, above which a kanji-only morpheme is penalized
	searchKanjiPenalty       = 3000
	searchOtherLength        = 7 // characters, above which any morpheme is penalized
	searchOtherPenalty       = 1700
)

// node is a lattice node.
type node struct {
	cost int32 // of the cheapest path from the start to here
	prev int32 // the node before this one on that path; -1 for none
	// normCost and normPrev are cost and prev in normal mode, without
	// search mode's penalties: both modes share the lattice's words and
	// connection costs, which are most of the work.
	normCost, normPrev int32
	next               int32 // the next node that ends where this one does; -1 for none
	penalty            int32 // search mode's penalty on paths leaving this node
	id                 int32
	class              uint8
	left               int16
	right              int16
	start              int32 // byte offset in the run
	end                int32
}

// lattice is a morphology's working memory, reused from run to run.
type lattice struct {
	nodes []node
	// head and tail are the first and last node that end at each
	// character boundary, in the order they were made; -1 for none.
	head, tail []int32
	path       []int32
}

// New loads kagome's IPA dictionary without the words' contents, which
// it does not need (base forms come from baseforms.txt), and returns its
// Morphology. Loading takes a noticeable part of a second and tens of
// MiB: a process needs one, which is safe for concurrent use.
func New() (*Morphology, error) {
	forms, err := parseBaseForms(builtinBaseForms)
	if err != nil {
		return nil, err
	}
	m, err := newMorphology(ipa.DictShrink(), forms)
	if err != nil {
		return nil, fmt.Errorf("ja: load dictionary: %w", err)
	}
	return m, nil
}

// newMorphology makes a Morphology of d, whose contents it does not read:
// base forms come from forms.
func newMorphology(d *dict.Dict, forms *baseForms) (*Morphology, error) {
	m := &Morphology{
		d:         d,
		forms:     forms,
		dup:       make([]uint8, len(d.Morphs)),
		unkID:     make([]int32, len(d.CharClass)),
		unkDup:    make([]int32, len(d.CharClass)),
		skip:      make([]bool, len(d.POSTable.NameList)),
		inflected: make([]bool, len(d.POSTable.NameList)),
	}
	for id, n := range d.Index.Dup {
		if id < 0 || int(id) >= len(m.dup) || n < 0 || n > 255 {
			return nil, fmt.Errorf("ja: dictionary entry %d has %d duplicates", id, n)
		}
		m.dup[id] = uint8(n)
	}
	for class := range d.CharClass {
		// A class missing from the maps reads as zero, as in kagome.
		m.unkID[class] = d.UnkDict.Index[int32(class)]
		m.unkDup[class] = d.UnkDict.IndexDup[int32(class)]
	}
	for i, name := range d.POSTable.NameList {
		m.skip[i] = skippedPOS(name)
		m.inflected[i] = inflectedPOS(name)
	}
	m.unkBase = -1
	if i, ok := d.UnkDict.ContentsMeta[dict.BaseFormIndex]; ok {
		m.unkBase = int(i)
	}
	m.scratch.New = func() any { return new(lattice) }
	return m, nil
}

// skippedPOS reports whether words of a first-level part of speech are left
// out of the index: they carry grammar, not meaning.
func skippedPOS(name string) bool {
	switch name {
	case "助詞", "助動詞", "記号", "フィラー", "接続詞", "その他":
		return true
	}
	return false
}

// inflectedPOS reports whether words of a first-level part of speech are
// indexed by base form: verbs and adjectives.
func inflectedPOS(name string) bool { return name == "動詞" || name == "形容詞" }

// Segment appends the morphemes of run to out, in order, as kagome's
// search mode finds them.
func (m *Morphology) Segment(run string, out []Morpheme) []Morpheme {
	out, _ = m.SegmentWords(run, out, nil, false)
	return out
}

// Words appends to out the byte ranges of run's words as kagome's normal
// mode finds them, in order: search mode without its penalties on long
// words, so that 六本木 and 一生懸命 stay whole where search mode splits
// them.
func (m *Morphology) Words(run string, out [][2]int) [][2]int {
	if run == "" {
		return out
	}
	la := m.scratch.Get().(*lattice)
	defer m.scratch.Put(la)
	return m.words(la, run, m.build(la, run, true), out)
}

// SegmentWords is Segment, and Words too when words is set, from one
// lattice.
func (m *Morphology) SegmentWords(run string, morphs []Morpheme, words [][2]int, normal bool) ([]Morpheme, [][2]int) {
	if run == "" {
		return morphs, words
	}
	la := m.scratch.Get().(*lattice)
	defer m.scratch.Put(la)
	eos := m.build(la, run, normal)
	la.path = la.path[:0]
	for n := la.nodes[eos].prev; n >= 0; n = la.nodes[n].prev {
		if la.nodes[n].class != classDummy {
			la.path = append(la.path, n)
		}
	}
	for i := len(la.path) - 1; i >= 0; i-- {
		morphs = append(morphs, m.morpheme(run, &la.nodes[la.path[i]]))
	}
	if normal {
		words = m.words(la, run, eos, words)
	}
	return morphs, words
}

// words appends the normal-mode path of la, whose end node is eos.
func (m *Morphology) words(la *lattice, run string, eos int32, out [][2]int) [][2]int {
	la.path = la.path[:0]
	for n := la.nodes[eos].normPrev; n >= 0; n = la.nodes[n].normPrev {
		if la.nodes[n].class != classDummy {
			la.path = append(la.path, n)
		}
	}
	for i := len(la.path) - 1; i >= 0; i-- {
		n := &la.nodes[la.path[i]]
		out = append(out, [2]int{int(n.start), int(n.end)})
	}
	return out
}

// build makes the lattice of run, its costs in search mode included, and
// in normal mode too when normal is set, and returns its end node.
func (m *Morphology) build(la *lattice, run string, normal bool) int32 {
	chars := utf8.RuneCountInString(run)
	la.nodes = la.nodes[:0]
	la.head = fill(la.head, chars+2)
	la.tail = fill(la.tail, chars+2)
	// The beginning: no cost, ending before the first character.
	la.nodes = append(la.nodes, node{id: -1, prev: -1, normPrev: -1, next: -1})
	la.head[0], la.tail[0] = 0, 0

	d := m.d
	da := d.Index.Da
	at := -1
	for pos, ch := range run {
		at++
		matched := false
		// Dictionary words starting here: kagome's double-array prefix
		// search, duplicates in the order of their IDs.
		for i, p, q := pos, 0, 0; i < len(run) && run[i] != 0; i++ {
			p = q
			q = int(da[p].Base) + int(run[i])
			if q < 0 || q >= len(da) || int(da[q].Check) != p {
				break
			}
			ahead := int(da[q].Base)
			if ahead < 0 || ahead >= len(da) || int(da[ahead].Check) != q || da[ahead].Base > 0 {
				continue
			}
			id := int(-da[ahead].Base)
			n := utf8.RuneCountInString(run[pos : i+1])
			penalty := searchPenalty(run[pos:i+1], n)
			for k := id; k <= id+int(m.dup[id]); k++ {
				m.add(la, normal, at, at+n, penalty, int32(k), classKnown, d.Morphs[k], pos, i+1)
			}
			matched = true
		}
		// Unknown words: the character alone, or the run of its class
		// and that run less its last character where the class groups.
		class := d.CharacterCategory(ch)
		if matched && !d.InvokeList[class] {
			continue
		}
		end := pos + 1
		if ch != utf8.RuneError {
			end = pos + utf8.RuneLen(ch)
		}
		if d.GroupList[class] {
			for n := 1; end < len(run); {
				c, w := utf8.DecodeRuneInString(run[end:])
				if d.CharacterCategory(c) != class {
					break
				}
				end += w
				if n++; n >= maximumUnknownWordLength {
					break
				}
			}
		}
		less := pos
		if c, size := utf8.DecodeLastRuneInString(run[pos:end]); c != utf8.RuneError {
			less = end - size
		}
		n := utf8.RuneCountInString(run[pos:end])
		penalty := searchPenalty(run[pos:end], n)
		nLess := utf8.RuneCountInString(run[pos:less])
		penaltyLess := searchPenalty(run[pos:less], nLess)
		id, dup := m.unkID[class], m.unkDup[class]
		for k := id; k <= id+dup; k++ {
			mo := d.UnkDict.Morphs[k]
			if pos < less {
				m.add(la, normal, at, at+nLess, penaltyLess, k, classUnknown, mo, pos, less)
			}
			m.add(la, normal, at, at+n, penalty, k, classUnknown, mo, pos, end)
		}
	}
	// The end: no word of its own, one past the last character.
	return m.add(la, normal, chars, chars+1, 0, -1, classDummy, dict.Morph{}, len(run), len(run))
}

// fill returns s resized to n and set to -1.
func fill(s []int32, n int) []int32 {
	if cap(s) < n {
		s = make([]int32, n)
	}
	s = s[:n]
	for i := range s {
		s[i] = -1
	}
	return s
}

// add makes the node for the bytes [start, end) of the run, which lies
// between the character boundaries from and to, finds its cheapest
// predecessor among the nodes that end at from, and returns it.
func (m *Morphology) add(la *lattice, normal bool, from, to int, penalty, id int32, class uint8, mo dict.Morph, start, end int) int32 {
	n := node{cost: maximumCost, prev: -1, normCost: maximumCost, normPrev: -1, next: -1, penalty: penalty, id: id, class: class,
		left: mo.LeftID, right: mo.RightID, start: int32(start), end: int32(end)}
	conn := m.d.Connection
	// The connection matrix is stored transposed: the cost from a
	// node's right ID to the next one's left ID is at left×Row+right.
	row := conn.Row * int64(mo.LeftID)
	first := true
	for j := la.head[from]; j >= 0; j = la.nodes[j].next {
		p := &la.nodes[j]
		step := int64(conn.Vec[row+int64(p.right)]) + int64(mo.Weight)
		total := min(step+int64(p.cost)+int64(p.penalty), maximumCost)
		if first || int32(total) < n.cost {
			n.cost, n.prev = int32(total), j
		}
		if normal {
			norm := min(step+int64(p.normCost), maximumCost)
			if first || int32(norm) < n.normCost {
				n.normCost, n.normPrev = int32(norm), j
			}
		}
		first = false
	}
	i := int32(len(la.nodes))
	la.nodes = append(la.nodes, n)
	if la.tail[to] >= 0 {
		la.nodes[la.tail[to]].next = i
	} else {
		la.head[to] = i
	}
	la.tail[to] = i
	return i
}

// searchPenalty is what kagome's search mode adds to the cost of a path
// for a morpheme spelled s, chars characters long.
func searchPenalty(s string, chars int) int32 {
	if chars > searchKanjiLength && kanjiOnly(s) {
		return int32(chars-searchKanjiLength) * searchKanjiPenalty
	}
	if chars > searchOtherLength {
		return int32(chars-searchOtherLength) * searchOtherPenalty
	}
	return 0
}

func kanjiOnly(s string) bool {
	for _, r := range s {
		if !unicode.In(r, unicode.Ideographic) {
			return false
		}
	}
	return s != ""
}

// morpheme describes the node n of run, with what the analyzer needs of
// its features: the first is its part of speech, and inflected words have
// a base form.
func (m *Morphology) morpheme(run string, n *node) Morpheme {
	mo := Morpheme{Offset: int(n.start), Surface: run[n.start:n.end]}
	switch n.class {
	case classKnown:
		if pos := m.d.POSTable.POSs[n.id]; len(pos) > 0 && int(pos[0]) < len(m.skip) {
			mo.Skip = m.skip[pos[0]]
			if m.inflected[pos[0]] {
				mo.Base = m.forms.of(n.id, n.left, mo.Surface)
			}
		}
	case classUnknown:
		if f := m.d.UnkDict.Contents[n.id]; len(f) > 0 {
			mo.Skip = skippedPOS(f[0])
			if inflectedPOS(f[0]) && m.unkBase >= 0 && m.unkBase < len(f) {
				mo.Base = f[m.unkBase]
			}
		}
	}
	return mo
}
