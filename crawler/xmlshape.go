package crawler

import (
	"bytes"
	"fmt"
)

// Bounds on the shape of a feed document, checked before the parser sees
// it. gofeed builds a tree of every element it is given, and an element
// costs it far more than the few bytes of its tag: 2,000,000 nested
// elements in a 14 MB feed took a crawl to 320 MiB. Real feeds nest a
// dozen levels, a few dozen with XHTML content, and a 1,000-item feed holds
// some tens of thousands of elements.
const (
	maxDepth    = 256
	maxElements = 250_000
)

// shapeError is a document beyond the bounds on its shape.
type shapeError struct {
	deep  bool
	limit int
}

func (e *shapeError) Error() string {
	if e.deep {
		return fmt.Sprintf("malformed feed: the feed nests elements deeper than %d", e.limit)
	}
	return fmt.Sprintf("malformed feed: the feed has more than %d elements", e.limit)
}

// shape is what the scan of a feed document found.
type shape struct {
	items int // item or entry elements, at the level of the first
	// kept is the document cut after its maxItems-th item, the elements
	// still open there closed; nil when the whole document is to be parsed.
	kept []byte
}

// scanShape scans an XML document (UTF-8, as decode returns it) before the
// parser sees it. It returns a *shapeError when the elements the parser
// would build nest deeper than maxDepth or number more than maxElements,
// and cuts a feed of more than maxItems items after the last it keeps, so
// that the parser never builds the items that would be dropped (a feed of
// 100,000 items is 1,000 items' work). It reads each byte once and
// allocates only the cut document.
//
// Only documents whose root is rss, rdf or feed are looked at: those are
// the ones gofeed parses in full. An HTML page (whose <p> and <br> need no
// end tag, so that its depth means nothing) is only read for the feed it
// links. Malformed markup is left to the parser to refuse; the scan only
// counts what the parser would build.
func scanShape(doc []byte) (shape, error) {
	return scanShapeWithin(doc, maxDepth, maxElements, maxItems)
}

// scanShapeWithin is scanShape with the bounds given, for tests.
func scanShapeWithin(doc []byte, maxDepth, maxElements, maxItems int) (shape, error) {
	var (
		sh        shape
		b         = doc
		depth     int
		elements  int
		rootSeen  bool
		itemDepth int       // the depth of the first item or entry, 0 before it
		open      [8][]byte // the names of the open elements, as deep as items are
		cut       = -1      // where the document is cut, once known
	)
	for {
		i := bytes.IndexByte(b, '<')
		if i < 0 {
			break
		}
		b = b[i:]
		switch {
		case bytes.HasPrefix(b, []byte("<!--")):
			b = skipPast(b[4:], "-->")
		case bytes.HasPrefix(b, []byte("<![CDATA[")):
			b = skipPast(b[9:], "]]>")
		case bytes.HasPrefix(b, []byte("<?")):
			b = skipPast(b[2:], "?>")
		case bytes.HasPrefix(b, []byte("<!")):
			b = skipDeclaration(b[2:])
		case bytes.HasPrefix(b, []byte("</")):
			name, rest, _ := startTag(b[2:])
			depth--
			b = rest
			if cut < 0 && itemDepth > 0 && depth == itemDepth-1 && isItem(name) && sh.items == maxItems {
				cut = len(doc) - len(b)
			}
		default:
			name, rest, selfClosing := startTag(b[1:])
			b = rest
			if !rootSeen {
				rootSeen = true
				if !feedRoot(name) {
					return shape{}, nil
				}
			}
			if isItem(name) && depth > 0 && (itemDepth == 0 || depth+1 == itemDepth) {
				itemDepth = depth + 1
				sh.items++
				if selfClosing && cut < 0 && sh.items == maxItems {
					cut = len(doc) - len(b)
				}
			}
			// Past the cut, nothing is parsed: only items are counted.
			if cut < 0 {
				elements++
				if elements > maxElements {
					return shape{}, &shapeError{limit: maxElements}
				}
				if depth+1 > maxDepth {
					// An empty element at the bound is as deep as its
					// parent's children.
					return shape{}, &shapeError{deep: true, limit: maxDepth}
				}
			}
			if !selfClosing {
				if depth >= 0 && depth < len(open) {
					open[depth] = name
				}
				depth++
			}
		}
	}
	if cut >= 0 && sh.items > maxItems && itemDepth-1 <= len(open) {
		kept := make([]byte, 0, cut+64)
		kept = append(kept, doc[:cut]...)
		for d := itemDepth - 2; d >= 0; d-- {
			kept = append(kept, "</"...)
			kept = append(kept, open[d]...)
			kept = append(kept, '>')
		}
		sh.kept = kept
	}
	return sh, nil
}

// isItem reports whether an element's name is RSS's item or Atom's entry,
// with any prefix.
func isItem(name []byte) bool {
	name = localName(name)
	return bytes.Equal(name, []byte("item")) || bytes.Equal(name, []byte("entry"))
}

// feedRoot reports whether a root element's name is one gofeed parses: rss,
// rdf (with any prefix) or feed, in any case.
func feedRoot(name []byte) bool {
	name = localName(name)
	return bytes.EqualFold(name, []byte("rss")) || bytes.EqualFold(name, []byte("rdf")) ||
		bytes.EqualFold(name, []byte("feed"))
}

// localName is an element name without its prefix, as encoding/xml splits
// it: at a colon with something on both sides.
func localName(name []byte) []byte {
	if space, local, ok := bytes.Cut(name, []byte(":")); ok && len(space) > 0 && len(local) > 0 {
		return local
	}
	return name
}

// skipPast returns what follows the first end in b, or nothing.
func skipPast(b []byte, end string) []byte {
	i := bytes.Index(b, []byte(end))
	if i < 0 {
		return nil
	}
	return b[i+len(end):]
}

// skipDeclaration skips a <!DOCTYPE …> or other declaration after its
// "<!", as encoding/xml (under gofeed) reads it: to the first '>' outside
// quotes that closes as many '<' as were opened, comments aside. The
// parser and the scan must agree on where it ends, or a document could
// hide elements from the scan inside what the scan took for a declaration.
func skipDeclaration(b []byte) []byte {
	var quote byte
	depth := 0
	// encoding/xml takes the first byte as it is, even a quote.
	for i := 1; i < len(b); i++ {
		c := b[i]
		if quote == 0 && c == '>' && depth == 0 {
			return b[i+1:]
		}
		switch {
		case c == quote:
			quote = 0
		case quote != 0:
		case c == '\'' || c == '"':
			quote = c
		case c == '>':
			depth--
		case c == '<':
			if bytes.HasPrefix(b[i+1:], []byte("!--")) {
				k := bytes.Index(b[i+4:], []byte("-->"))
				if k < 0 {
					return nil
				}
				i += 4 + k + 2
				continue
			}
			depth++
		}
	}
	return nil
}

// startTag reads a start tag after its '<': its name, what follows its '>',
// and whether it closes itself ("/>"). Attribute values may hold '>'.
func startTag(b []byte) (name, rest []byte, selfClosing bool) {
	n := 0
	for n < len(b) && !isSpaceOrEnd(b[n]) {
		n++
	}
	name = b[:n]
	var quote byte
	for i := n; i < len(b); i++ {
		c := b[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == '>':
			return name, b[i+1:], i > 0 && b[i-1] == '/'
		}
	}
	return name, nil, false
}

func isSpaceOrEnd(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '>' || c == '/'
}
