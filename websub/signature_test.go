package websub

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// rfcVectors are HMAC test case 2 of RFC 2202 (SHA-1) and RFC 4231
// (SHA-2): key "Jefe", data "what do ya want for nothing?". They are the
// independent oracle for the signatures of section 7.1.1's algorithms.
var rfcVectors = []struct{ alg, hex string }{
	{"sha1", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
	{"sha256", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
	{"sha384", "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649"},
	{"sha512", "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"},
}

const rfcKey, rfcData = "Jefe", "what do ya want for nothing?"

func TestSign_Section7_1_1_RecognizedAlgorithms(t *testing.T) {
	for _, v := range rfcVectors {
		t.Run(v.alg, func(t *testing.T) {
			got, err := Sign(v.alg, rfcKey, []byte(rfcData))
			if err != nil {
				t.Fatal(err)
			}
			if want := v.alg + "=" + v.hex; got != want {
				t.Errorf("Sign = %s, want %s", got, want)
			}
		})
	}
	if _, err := Sign("md5", rfcKey, nil); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Sign(md5) error = %v, want ErrBadSignature", err)
	}
}

func TestVerify_Section7_1_2_SignatureValidation(t *testing.T) {
	body := []byte(rfcData)
	tests := []struct {
		name, header, secret string
		body                 []byte
		want                 error
	}{
		{"sha1", "sha1=" + rfcVectors[0].hex, rfcKey, body, nil},
		{"sha256", "sha256=" + rfcVectors[1].hex, rfcKey, body, nil},
		{"sha384", "sha384=" + rfcVectors[2].hex, rfcKey, body, nil},
		{"sha512", "sha512=" + rfcVectors[3].hex, rfcKey, body, nil},
		{"upper-case method and digest", "SHA256=" + strings.ToUpper(rfcVectors[1].hex), rfcKey, body, nil},
		{"missing", "", rfcKey, body, ErrNoSignature},
		{"blank", "   ", rfcKey, body, ErrNoSignature},
		{"wrong secret", "sha256=" + rfcVectors[1].hex, "Jeff", body, ErrBadSignature},
		{"tampered body", "sha256=" + rfcVectors[1].hex, rfcKey, []byte(rfcData + "!"), ErrBadSignature},
		{"empty body", "sha256=" + rfcVectors[1].hex, rfcKey, nil, ErrBadSignature},
		{"digest of another algorithm", "sha512=" + rfcVectors[1].hex, rfcKey, body, ErrBadSignature},
		{"unknown algorithm", "md5=750c783e6ab0b503eaa86e310a5db738", rfcKey, body, ErrBadSignature},
		{"no equals sign", "sha256" + rfcVectors[1].hex, rfcKey, body, ErrBadSignature},
		{"not hexadecimal", "sha256=" + strings.Repeat("zz", 32), rfcKey, body, ErrBadSignature},
		{"truncated digest", "sha256=" + rfcVectors[1].hex[:62], rfcKey, body, ErrBadSignature},
		{"two signatures in one header", "sha256=" + rfcVectors[1].hex + ",sha1=00", rfcKey, body, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Verify(tt.header, tt.secret, tt.body)
			if tt.want == nil && err != nil {
				t.Fatalf("Verify = %v, want nil", err)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func FuzzParseSignature(f *testing.F) {
	for _, v := range rfcVectors {
		f.Add(v.alg+"="+v.hex, rfcKey, []byte(rfcData))
	}
	f.Add("sha256=", "", []byte{})
	f.Add("=", "k", []byte("x"))
	f.Add("sha1=zz", "k", []byte("x"))
	f.Fuzz(func(t *testing.T, header, secret string, body []byte) {
		alg, sum, err := ParseSignature(header)
		if err == nil {
			// What parses must print back to a header that parses the same.
			again, sum2, err := ParseSignature(fmt.Sprintf("%s=%x", alg, sum))
			if err != nil || again != alg || !bytes.Equal(sum, sum2) {
				t.Fatalf("%q parsed as %s=%x but did not round-trip: %v", header, alg, sum, err)
			}
		}
		_ = Verify(header, secret, body)
		// Whatever the header, a signature made now verifies.
		for a := range algorithms {
			sig, err := Sign(a, secret, body)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(sig, secret, body); err != nil {
				t.Fatalf("Verify(Sign(%s)) = %v", a, err)
			}
		}
	})
}

func BenchmarkVerify(b *testing.B) {
	// 64 KiB, about the size of a feed of ten full posts.
	body := bytes.Repeat([]byte("<entry><title>vSphere</title></entry>\n"), 64<<10/38)
	secret := randomToken(32)
	for _, alg := range []string{"sha1", "sha256", "sha384", "sha512"} {
		sig, _ := Sign(alg, secret, body)
		b.Run(alg, func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			for b.Loop() {
				if err := Verify(sig, secret, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
