package websub

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// Signature errors, compared with errors.Is. A content distribution with
// either is answered 2xx and ignored (section 7.1.2).
var (
	// ErrNoSignature means a subscription made with a secret received a
	// content distribution without X-Hub-Signature.
	ErrNoSignature = errors.New("no X-Hub-Signature")
	// ErrBadSignature means X-Hub-Signature is malformed, names an unknown
	// algorithm, or does not match the body.
	ErrBadSignature = errors.New("bad X-Hub-Signature")
)

// algorithms are the recognized algorithm names of section 7.1.1. SHA-1 is
// accepted because most hubs still sign with it for older subscribers; the
// hub side of this package signs with SHA-256 (section 8.3).
var algorithms = map[string]func() hash.Hash{
	"sha1":   sha1.New,
	"sha256": sha256.New,
	"sha384": sha512.New384,
	"sha512": sha512.New,
}

// Sign returns the X-Hub-Signature value for body under secret with the
// algorithm alg ("sha1", "sha256", "sha384" or "sha512"), in the form
// method=signature of section 7.1.
func Sign(alg, secret string, body []byte) (string, error) {
	h, ok := algorithms[alg]
	if !ok {
		return "", fmt.Errorf("%w: unknown algorithm %q", ErrBadSignature, alg)
	}
	m := hmac.New(h, []byte(secret))
	m.Write(body)
	return alg + "=" + hex.EncodeToString(m.Sum(nil)), nil
}

// ParseSignature splits an X-Hub-Signature value into its algorithm name
// (lower-case) and the digest it carries, checking that the digest has the
// algorithm's length.
func ParseSignature(header string) (alg string, sum []byte, err error) {
	method, sig, ok := strings.Cut(strings.TrimSpace(header), "=")
	if !ok {
		return "", nil, fmt.Errorf("%w: %q is not method=signature", ErrBadSignature, clip(header))
	}
	alg = strings.ToLower(strings.TrimSpace(method))
	h, known := algorithms[alg]
	if !known {
		return "", nil, fmt.Errorf("%w: unknown algorithm %q", ErrBadSignature, clip(method))
	}
	sum, err = hex.DecodeString(strings.TrimSpace(sig))
	if err != nil {
		return "", nil, fmt.Errorf("%w: signature is not hexadecimal", ErrBadSignature)
	}
	if want := h().Size(); len(sum) != want {
		return "", nil, fmt.Errorf("%w: %s signature has %d bytes, want %d", ErrBadSignature, alg, len(sum), want)
	}
	return alg, sum, nil
}

// Verify checks header, an X-Hub-Signature value, against body and secret,
// recomputing the signature with the method the header names (section
// 7.1.2). The comparison takes constant time.
func Verify(header, secret string, body []byte) error {
	if strings.TrimSpace(header) == "" {
		return ErrNoSignature
	}
	alg, sum, err := ParseSignature(header)
	if err != nil {
		return err
	}
	m := hmac.New(algorithms[alg], []byte(secret))
	m.Write(body)
	if !hmac.Equal(m.Sum(nil), sum) {
		return fmt.Errorf("%w: %s signature does not match the body", ErrBadSignature, alg)
	}
	return nil
}

// clip shortens outside input quoted in an error message.
func clip(s string) string {
	const n = 40
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
