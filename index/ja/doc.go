// Package ja is vplanet's Japanese analysis: width and compatibility
// folding that keeps the way back to the original offsets (Fold), the
// splitting of a run of Japanese into morphemes as kagome's search mode
// does it, with the base forms of verbs and adjectives (Morphology), and
// the katakana long-vowel rule (StemKatakana). Package index combines them
// with the English side into the analyzer its index uses.
//
// The morphology is ported from kagome; see lattice.go for its copyright
// and licence. baseforms.txt is derived from the IPA dictionary
// (mecab-ipadic) as kagome-dict ships it; NOTICE.txt holds that
// dictionary's notice, which goes with any copy of it.
package ja
