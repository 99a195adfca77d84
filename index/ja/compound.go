package ja

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// minCompoundChars is the shortest katakana word that Parts splits: shorter
// ones are one word or two short ones (データ, ログイン), and a split of
// those finds more posts that do not mean them than posts that do.
const minCompoundChars = 6

// maxCompoundChars bounds the words Parts splits: its search weighs every
// pair of character boundaries.
const maxCompoundChars = 48

// The costs of a split: each part costs partCost, so that the split with
// fewest parts wins, plus its dictionary weight, which breaks ties in
// favour of common words; a stretch that is no dictionary word costs
// gapCost and gapCharCost a character, so that one is taken only where no
// split into words exists.
const (
	partCost    = 20000
	gapCost     = 60000
	gapCharCost = 1000
)

// Parts splits a katakana word of six characters or more (ワークロードドメイン,
// ストレージコントローラー; dictionary words too, which are mostly
// compounds at that length: メールアドレス, データベース) into the katakana
// words of the dictionary that spell it, as Lucene's kuromoji does in its
// search mode: the split into fewest words, each of two characters or more
// and followed by any long-vowel marks (コントローラー is コントローラ's
// spelling too). A stretch that is no word (a name) is a part of its own.
// Parts appends the byte ranges of the parts to out; it appends nothing
// when the word is short, not all katakana, or splits into fewer
// than two parts or into no dictionary word at all.
func (m *Morphology) Parts(word string, out [][2]int) [][2]int {
	n := utf8.RuneCountInString(word)
	if n < minCompoundChars || n > maxCompoundChars || !katakanaOnly(word) {
		return out
	}
	// bounds[k] is the byte offset of character k.
	var boundsBuf [maxCompoundChars + 1]int
	bounds := boundsBuf[:0]
	for i := range word {
		bounds = append(bounds, i)
	}
	bounds = append(bounds, len(word))
	var cost [maxCompoundChars + 1]int64
	var from [maxCompoundChars + 1]int
	var isWord [maxCompoundChars + 1]bool
	for k := 1; k <= n; k++ {
		cost[k] = -1
	}
	da := m.d.Index.Da
	for at := 0; at < n; at++ {
		if cost[at] < 0 || !canStart(word[bounds[at]:]) {
			continue
		}
		// Dictionary words that start at character at.
		start := bounds[at]
		chars := at
		for i, p, q := start, 0, 0; i < len(word); i++ {
			p = q
			q = int(da[p].Base) + int(word[i])
			if q < 0 || q >= len(da) || int(da[q].Check) != p {
				break
			}
			if i+1 < len(word) && !utf8.RuneStart(word[i+1]) {
				continue
			}
			chars++
			ahead := int(da[q].Base)
			if ahead < 0 || ahead >= len(da) || int(da[ahead].Check) != q || da[ahead].Base > 0 {
				continue
			}
			if chars-at < 2 || at == 0 && chars == n {
				continue // too short, or the whole word
			}
			// Names are no parts: コントローラー is not コント and ローラ.
			id := int(-da[ahead].Base)
			w, common := int64(0), false
			for k := id; k <= id+int(m.dup[id]); k++ {
				if m.properNoun(k) {
					continue
				}
				if !common || int64(m.d.Morphs[k].Weight) < w {
					w = int64(m.d.Morphs[k].Weight)
				}
				common = true
			}
			if !common {
				continue
			}
			// Long-vowel marks after a word belong to it.
			end := chars
			for end < n && word[bounds[end]:bounds[end+1]] == "ー" {
				end++
			}
			m.relax(cost[:], from[:], isWord[:], at, end, cost[at]+partCost+w, true)
		}
		// A stretch that is no word.
		for end := at + 1; end <= n; end++ {
			if at == 0 && end == n {
				break // the whole word
			}
			if end < n && !canStart(word[bounds[end]:]) {
				continue
			}
			m.relax(cost[:], from[:], isWord[:], at, end, cost[at]+gapCost+int64(end-at)*gapCharCost, false)
		}
	}
	if cost[n] < 0 {
		return out
	}
	// Walk the cheapest split back from the end.
	var cutsBuf [maxCompoundChars + 1]int
	cuts := cutsBuf[:0]
	words := 0
	for k := n; k > 0; k = from[k] {
		cuts = append(cuts, k)
		if isWord[k] {
			words++
		}
	}
	if len(cuts) < 2 || words == 0 {
		return out
	}
	prev := 0
	for i := len(cuts) - 1; i >= 0; i-- {
		out = append(out, [2]int{bounds[prev], bounds[cuts[i]]})
		prev = cuts[i]
	}
	return out
}

// relax records the part [at, end) when it makes a cheaper split of the
// first end characters; of equal splits the first found stays.
func (m *Morphology) relax(cost []int64, from []int, isWord []bool, at, end int, c int64, word bool) {
	if cost[end] < 0 || c < cost[end] {
		cost[end], from[end], isWord[end] = c, at, word
	}
}

func katakanaOnly(s string) bool {
	for _, r := range s {
		if r != 'ー' && !unicode.Is(unicode.Katakana, r) {
			return false
		}
	}
	return s != ""
}

// canStart reports whether a katakana word may start s: not a long-vowel
// mark, a small kana or ン, which only ever follow another sound, so a part
// that starts with one (ンシー of レイテンシー) is a wrong cut.
func canStart(s string) bool {
	r, _ := utf8.DecodeRuneInString(s)
	return !strings.ContainsRune("ーンァィゥェォャュョッヮヵヶ", r)
}

// properNoun reports whether the dictionary entry id is a name.
func (m *Morphology) properNoun(id int) bool {
	pos := m.d.POSTable.POSs[id]
	return len(pos) > 1 && int(pos[1]) < len(m.d.POSTable.NameList) && m.d.POSTable.NameList[pos[1]] == "固有名詞"
}
