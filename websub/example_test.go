package websub_test

import (
	"fmt"
	"net/http"

	"vplanet/websub"
)

func ExampleDiscover() {
	header := http.Header{}
	header.Add("Link", `<https://hub.example.com/>; rel="hub", </feed.atom>; rel="self"`)
	links := websub.Discover(header, nil, "https://blog.example.org/feed")
	fmt.Println(links.Hubs, links.Self)
	// Output: [https://hub.example.com/] https://blog.example.org/feed.atom
}

func ExampleSign() {
	// HMAC-SHA-256 test case 2 of RFC 4231.
	sig, _ := websub.Sign("sha256", "Jefe", []byte("what do ya want for nothing?"))
	fmt.Println(sig)
	fmt.Println(websub.Verify(sig, "Jefe", []byte("what do ya want for nothing?")))
	// Output:
	// sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843
	// <nil>
}
