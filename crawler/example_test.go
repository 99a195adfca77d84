package crawler_test

import (
	"fmt"
	"strings"

	"vplanet/crawler"
)

func ExampleReadFeedList() {
	srcs, err := crawler.ReadFeedList(strings.NewReader(`# VMware blogs
https://www.yellow-bricks.com/feed/   Yellow Bricks   en
https://vhoge.hateblo.jp/             ja   # a home page: its feed is discovered
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, s := range srcs {
		fmt.Printf("line %d: %s name=%q lang=%q\n", s.Line, s.URL, s.Name, s.Lang)
	}
	// Output:
	// line 2: https://www.yellow-bricks.com/feed/ name="Yellow Bricks" lang="en"
	// line 3: https://vhoge.hateblo.jp/ name="" lang="ja"
}

func ExampleReadFeedList_error() {
	_, err := crawler.ReadFeedList(strings.NewReader("https://ok.example/feed\nftp://files.example/feed.xml\n"))
	fmt.Println(err)
	// Output:
	// feeds.txt line 2: "ftp://files.example/feed.xml": only http and https URLs can be crawled, not ftp
}
