package index_test

import (
	"fmt"
	"strings"

	"vplanet/index"
)

func ExampleSnippet() {
	text := "今日は vCenter の可用性を高める ＶＣＨＡ を構成しました。"
	at := strings.Index(text, "ＶＣＨＡ")
	fmt.Println(index.Snippet(text, []index.Span{{Start: at, End: at + len("ＶＣＨＡ")}}, 20))
	// Output: …の可用性を高める <mark>ＶＣＨＡ</mark> を構成しました。
}

func ExampleHighlight() {
	fmt.Println(index.Highlight("NSX-T & <NSX-V>", []index.Span{{Start: 0, End: 5}}))
	// Output: <mark>NSX-T</mark> &amp; &lt;NSX-V&gt;
}
