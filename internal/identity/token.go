package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
)

// Prefixes of the bearer tokens the directory issues besides API keys.
const (
	SessionPrefix  = "scs_" // a person's session, after password and TOTP
	CustomerPrefix = "sct_" // a storefront's token for one customer
)

const tokenLen = 4 + secretLen

var errMarshalToken = errors.New("identity: a token cannot be marshalled")

// Token is a session or customer token, secret included. Like APIKey it
// prints as its prefix only and refuses to be marshalled; Reveal returns it
// for the one response that hands it out.
type Token struct {
	full *string
}

// Reveal returns the full token.
func (t Token) Reveal() string {
	if t.full == nil {
		return ""
	}
	return *t.full
}

// IsZero reports whether t holds no token.
func (t Token) IsZero() bool { return t.full == nil }

// Equal compares two tokens in constant time.
func (t Token) Equal(o Token) bool {
	return subtle.ConstantTimeCompare([]byte(t.Reveal()), []byte(o.Reveal())) == 1
}

// String returns the token's prefix followed by an ellipsis.
func (t Token) String() string {
	if t.full == nil {
		return "[no token]"
	}
	return (*t.full)[:4] + "…"
}

// GoString returns the same as String.
func (t Token) GoString() string { return t.String() }

// Format writes String whatever the verb and flags.
func (t Token) Format(f fmt.State, _ rune) { f.Write([]byte(t.String())) }

// MarshalJSON refuses.
func (t Token) MarshalJSON() ([]byte, error) { return nil, errMarshalToken }

// MarshalText refuses.
func (t Token) MarshalText() ([]byte, error) { return nil, errMarshalToken }

// MarshalBinary refuses.
func (t Token) MarshalBinary() ([]byte, error) { return nil, errMarshalToken }

// newToken returns a token with prefix and the SHA-256 of its secret, which
// is all that is stored. 256 random bits need no slow hash.
func newToken(prefix string) (Token, []byte, error) {
	var secret [secretBytes]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return Token{}, nil, fmt.Errorf("generate token: %w", err)
	}
	full := prefix + base64.RawURLEncoding.EncodeToString(secret[:])
	h := sha256.Sum256(secret[:])
	clear(secret[:])
	return Token{&full}, h[:], nil
}

// tokenHash parses a presented token of the given prefix strictly and
// returns the hash it is stored under.
func tokenHash(prefix, s string) ([]byte, bool) {
	if len(s) != tokenLen || s[:4] != prefix {
		return nil, false
	}
	enc := s[4:]
	for _, c := range []byte(enc) {
		if !isBase64URL(c) {
			return nil, false
		}
	}
	secret, err := strictBase64.DecodeString(enc)
	if err != nil || len(secret) != secretBytes {
		return nil, false
	}
	h := sha256.Sum256(secret)
	clear(secret)
	return h[:], true
}
