package ja

import (
	"bufio"
	"bytes"
	_ "embed"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The analyzer indexes a verb or an adjective by its base form (行っ as
// 行く). kagome's IPA dictionary keeps the base form among each word's
// contents, with its readings: most of the dictionary's memory and loading
// time, of which the analyzer needed nothing else. The dictionary is therefore
// loaded without its contents, and base forms come from baseforms.txt:
// a word's base form is its spelling less a few characters plus an ending,
// and which ones depends only on its left context ID, which stands for its
// part of speech and inflection, and on its last character. 1,707 rules and
// 4 exceptions give the base form of all 157,960 verbs and adjectives;
// TestBaseForms derives them from the whole dictionary and checks every one.

//go:embed baseforms.txt
var builtinBaseForms []byte

// baseRule turns the spelling of an inflected word into its base form.
type baseRule struct {
	cut    int    // characters to cut from the end of the spelling
	ending string // to add after them
}

// baseKey is what a baseRule is chosen by.
type baseKey struct {
	left int16 // the word's left context ID
	last rune  // the last character of its spelling
}

// baseForms holds the rules of baseforms.txt.
type baseForms struct {
	rules      map[baseKey]baseRule
	exceptions map[int32]string // by dictionary ID
}

// parseBaseForms reads baseforms.txt: after comments, a rule a line (left
// ID, last character, characters to cut, ending, separated by tabs) or an
// exception (dictionary ID and base form).
func parseBaseForms(b []byte) (*baseForms, error) {
	f := &baseForms{rules: map[baseKey]baseRule{}, exceptions: map[int32]string{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Split(line, "\t")
		switch len(fields) {
		case 4:
			left, err1 := strconv.ParseInt(fields[0], 10, 16)
			last, size := utf8.DecodeRuneInString(fields[1])
			cut, err2 := strconv.Atoi(fields[2])
			if err1 != nil || err2 != nil || size != len(fields[1]) || last == utf8.RuneError || cut < 0 {
				return nil, fmt.Errorf("baseforms.txt:%d: bad rule %q", n, line)
			}
			f.rules[baseKey{int16(left), last}] = baseRule{cut: cut, ending: fields[3]}
		case 2:
			id, err := strconv.ParseInt(fields[0], 10, 32)
			if err != nil {
				return nil, fmt.Errorf("baseforms.txt:%d: bad exception %q", n, line)
			}
			f.exceptions[int32(id)] = fields[1]
		default:
			return nil, fmt.Errorf("baseforms.txt:%d: want 4 or 2 fields, got %d", n, len(fields))
		}
	}
	return f, sc.Err()
}

// of returns the base form of the known word id spelled surface with left
// context ID left, or "" when no rule covers it.
func (f *baseForms) of(id int32, left int16, surface string) string {
	if b, ok := f.exceptions[id]; ok {
		return b
	}
	last, _ := utf8.DecodeLastRuneInString(surface)
	r, ok := f.rules[baseKey{left, last}]
	if !ok {
		return ""
	}
	if r.cut == 0 && r.ending == "" {
		return surface
	}
	end := len(surface)
	for range r.cut {
		if end == 0 {
			return ""
		}
		_, size := utf8.DecodeLastRuneInString(surface[:end])
		end -= size
	}
	return surface[:end] + r.ending
}
