package ja

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"maps"
	"os"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome-dict/dict/trie"
	"github.com/ikawaha/kagome-dict/ipa"
)

var update = flag.Bool("update", false, "rewrite baseforms.txt from the IPA dictionary")

// TestBaseForms derives baseforms.txt from the IPA dictionary with its
// contents, compares it with the file, and checks that the file gives
// every verb and adjective the base form the dictionary does. With
// -update it rewrites the file.
func TestBaseForms(t *testing.T) {
	d := ipa.Dict()
	words := inflectedWords(t, d)
	want := renderBaseForms(deriveBaseForms(words))
	if *update {
		if err := os.WriteFile("baseforms.txt", want, 0o644); err != nil {
			t.Fatal(err)
		}
	} else if !bytes.Equal(builtinBaseForms, want) {
		t.Errorf("baseforms.txt differs from what the dictionary gives; run go test ./index/ja -run TestBaseForms -update")
	}
	forms, err := parseBaseForms(want)
	if err != nil {
		t.Fatal(err)
	}
	if len(words) < 100000 {
		t.Fatalf("only %d verbs and adjectives found in the dictionary", len(words))
	}
	wrong := 0
	for _, w := range words {
		if got := forms.of(w.id, w.left, w.surface); got != w.base {
			if wrong++; wrong <= 10 {
				t.Errorf("%d %q: base form %q, the dictionary says %q", w.id, w.surface, got, w.base)
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%d of %d verbs and adjectives get a wrong base form", wrong, len(words))
	}
	t.Logf("%d verbs and adjectives, %d rules, %d exceptions", len(words), len(forms.rules), len(forms.exceptions))
}

func TestParseBaseForms(t *testing.T) {
	for _, tc := range []struct{ name, in string }{
		{"three fields", "35\tっ\t1\n"},
		{"no character", "35\t\t1\tい\n"},
		{"two characters", "35\tった\t1\tい\n"},
		{"negative cut", "35\tっ\t-1\tい\n"},
		{"bad ID", "x\t行く\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := parseBaseForms([]byte("# a comment\n" + tc.in)); err == nil {
				t.Errorf("%q: no error", tc.in)
			}
		})
	}
	f, err := parseBaseForms([]byte("35\tっ\t1\tう\n3938\tいい\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id      int32
		left    int16
		surface string
		want    string
	}{
		{1, 35, "買っ", "買う"},
		{3938, 35, "いいっ", "いい"},
		{1, 36, "買っ", ""},
		{1, 35, "っ", "う"},
	} {
		if got := f.of(tc.id, tc.left, tc.surface); got != tc.want {
			t.Errorf("of(%d, %d, %q) = %q, want %q", tc.id, tc.left, tc.surface, got, tc.want)
		}
	}
}

// inflectedWord is a verb or adjective of the dictionary.
type inflectedWord struct {
	id      int32
	left    int16
	surface string
	base    string // the dictionary's, or the spelling when it has none
}

// inflectedWords lists the verbs and adjectives of d, which must have its
// contents, with their spellings from its index.
func inflectedWords(t *testing.T, d *dict.Dict) []inflectedWord {
	t.Helper()
	i, ok := d.ContentsMeta[dict.BaseFormIndex]
	if !ok || len(d.Contents) != len(d.Morphs) {
		t.Fatal("the dictionary has no base forms")
	}
	// A known word's features are its parts of speech, then its contents.
	baseAt := int(i) - len(d.POSTable.POSs[0])
	surfaces := make([]string, len(d.Morphs))
	for id, s := range spellings(d.Index.Da) {
		for k := id; k <= id+int(d.Index.Dup[int32(id)]); k++ {
			surfaces[k] = s
		}
	}
	var words []inflectedWord
	for id := range d.Morphs {
		if pos := d.POSTable.POSs[id]; !inflectedPOS(d.POSTable.NameList[pos[0]]) {
			continue
		}
		if surfaces[id] == "" {
			t.Fatalf("dictionary entry %d has no spelling in the index", id)
		}
		w := inflectedWord{id: int32(id), left: d.Morphs[id].LeftID, surface: surfaces[id], base: surfaces[id]}
		if c := d.Contents[id]; baseAt >= 0 && baseAt < len(c) && c[baseAt] != "*" && c[baseAt] != "" {
			w.base = c[baseAt]
		}
		words = append(words, w)
	}
	return words
}

// spellings returns the keys of a kagome double array by ID.
func spellings(da trie.DoubleArray) map[int]string {
	out := map[int]string{}
	var walk func(p int, prefix []byte)
	walk = func(p int, prefix []byte) {
		base := int(da[p].Base)
		// A key ends where the terminator, byte 0, leads to a leaf whose
		// base is the key's ID, negated.
		if base >= 0 && base < len(da) && base != p && int(da[base].Check) == p && da[base].Base <= 0 {
			out[int(-da[base].Base)] = string(prefix)
		}
		for c := 1; c < 256; c++ {
			if q := base + c; q >= 0 && q < len(da) && q != p && int(da[q].Check) == p {
				walk(q, append(prefix, byte(c)))
			}
		}
	}
	walk(0, nil)
	return out
}

// deriveBaseForms finds, for each left context ID and last character, the
// rule most words follow, and lists the words that follow none.
func deriveBaseForms(words []inflectedWord) *baseForms {
	ruleOf := func(w inflectedWord) baseRule {
		common := 0
		for _, r := range w.surface {
			n := utf8.RuneLen(r)
			if common+n > len(w.base) || w.base[common:common+n] != string(r) {
				break
			}
			common += n
		}
		return baseRule{cut: utf8.RuneCountInString(w.surface[common:]), ending: w.base[common:]}
	}
	keyOf := func(w inflectedWord) baseKey {
		last, _ := utf8.DecodeLastRuneInString(w.surface)
		return baseKey{w.left, last}
	}
	counts := map[baseKey]map[baseRule]int{}
	for _, w := range words {
		k := keyOf(w)
		if counts[k] == nil {
			counts[k] = map[baseRule]int{}
		}
		counts[k][ruleOf(w)]++
	}
	f := &baseForms{rules: map[baseKey]baseRule{}, exceptions: map[int32]string{}}
	for k, rules := range counts {
		// The most followed rule; among equals, the shortest.
		f.rules[k] = slices.MaxFunc(slices.Collect(maps.Keys(rules)), func(a, b baseRule) int {
			return cmp.Or(cmp.Compare(rules[a], rules[b]), cmp.Compare(b.cut, a.cut), cmp.Compare(b.ending, a.ending))
		})
	}
	for _, w := range words {
		if f.rules[keyOf(w)] != ruleOf(w) {
			f.exceptions[w.id] = w.base
		}
	}
	return f
}

// renderBaseForms writes f as baseforms.txt.
func renderBaseForms(f *baseForms) []byte {
	var b bytes.Buffer
	b.WriteString("# Base forms of the verbs and adjectives of kagome's IPA dictionary, for the\n")
	b.WriteString("# dictionary without its contents (see baseforms.go). Written by\n")
	b.WriteString("# go test ./index/ja -run TestBaseForms -update; do not edit.\n")
	b.WriteString("# Derived from mecab-ipadic-2.7.0-20070801: see NOTICE.txt for its notice.\n")
	b.WriteString("#\n# left context ID, last character, characters to cut, ending to add\n")
	keys := slices.SortedFunc(maps.Keys(f.rules), func(a, b baseKey) int {
		return cmp.Or(cmp.Compare(a.left, b.left), cmp.Compare(a.last, b.last))
	})
	for _, k := range keys {
		r := f.rules[k]
		fmt.Fprintf(&b, "%d\t%c\t%d\t%s\n", k.left, k.last, r.cut, r.ending)
	}
	b.WriteString("#\n# words no rule fits: dictionary ID, base form\n")
	for _, id := range slices.Sorted(maps.Keys(f.exceptions)) {
		fmt.Fprintf(&b, "%d\t%s\n", id, f.exceptions[id])
	}
	return b.Bytes()
}
