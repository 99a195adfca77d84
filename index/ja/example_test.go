package ja_test

import (
	"fmt"
	"log"

	"vplanet/index/ja"
)

func ExampleMorphology_Segment() {
	m, err := ja.New()
	if err != nil {
		log.Fatal(err)
	}
	for _, mo := range m.Segment("拡張クラスタを構成した", nil) {
		switch {
		case mo.Skip:
			fmt.Printf("%s (not indexed)\n", mo.Surface)
		case mo.Base != "":
			fmt.Printf("%s as %s\n", mo.Surface, mo.Base)
		default:
			fmt.Println(mo.Surface)
		}
	}
	// Output:
	// 拡張
	// クラスタ
	// を (not indexed)
	// 構成
	// し as する
	// た (not indexed)
}

func ExampleFold() {
	text := "ＶＣＨＡの構成"
	f := ja.Fold(text)
	start, end := f.Orig(0, len("VCHA"))
	fmt.Println(f.Text)
	fmt.Println(text[start:end])
	// Output:
	// VCHAの構成
	// ＶＣＨＡ
}
