package identity

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// The layout of a key: "sck_" keyid "_" secret.
const (
	keyScheme    = "sck_"
	keyIDLen     = 12
	secretBytes  = 32
	secretLen    = 43 // unpadded base64 of secretBytes
	keyLen       = len(keyScheme) + keyIDLen + 1 + secretLen
	keyIDRandLen = 8 // random bytes drawn for a key id; 60 bits of them are used
)

var errMarshalKey = errors.New("identity: an API key cannot be marshalled")

// APIKey is a full API key, secret included. It prints as its prefix only,
// "sck_<keyid>_…", with every fmt verb, and refuses to be marshalled; Reveal
// returns the key itself.
//
// The key sits behind a pointer to a string. fmt cannot call methods on a
// caller's unexported struct fields, so it walks them, and it may print what
// a pointer to a struct, array, slice or map points to (through %!s(...) for
// a verb the pointer does not take); a pointer to a string it prints only as
// an address.
type APIKey struct {
	full *string
}

// ID returns the key id, the part of the key that is not secret.
func (k APIKey) ID() string {
	if k.full == nil {
		return ""
	}
	return (*k.full)[len(keyScheme) : len(keyScheme)+keyIDLen]
}

// Prefix returns "sck_<keyid>_", which identifies the key in listings.
func (k APIKey) Prefix() string {
	if k.full == nil {
		return ""
	}
	return keyPrefix(k.ID())
}

// IsZero reports whether k holds no key.
func (k APIKey) IsZero() bool { return k.full == nil }

// Reveal returns the full key, for the one time it is shown to its owner.
func (k APIKey) Reveal() string {
	if k.full == nil {
		return ""
	}
	return *k.full
}

// Equal compares two keys in constant time.
func (k APIKey) Equal(o APIKey) bool {
	return subtle.ConstantTimeCompare([]byte(k.Reveal()), []byte(o.Reveal())) == 1
}

// String returns the key's prefix followed by an ellipsis.
func (k APIKey) String() string {
	if k.full == nil {
		return "[no API key]"
	}
	return k.Prefix() + "…"
}

// GoString returns the same as String.
func (k APIKey) GoString() string { return k.String() }

// Format writes String whatever the verb and flags.
func (k APIKey) Format(f fmt.State, _ rune) { f.Write([]byte(k.String())) }

// MarshalJSON refuses.
func (k APIKey) MarshalJSON() ([]byte, error) { return nil, errMarshalKey }

// MarshalText refuses.
func (k APIKey) MarshalText() ([]byte, error) { return nil, errMarshalKey }

// MarshalBinary refuses, which also keeps the key out of encoding/gob.
func (k APIKey) MarshalBinary() ([]byte, error) { return nil, errMarshalKey }

// KeyInfo describes an API key without its secret or hash.
type KeyInfo struct {
	ID          string
	PrincipalID string
	Prefix      string // "sck_<keyid>_"
	CreatedAt   time.Time
	// ExpiresAt, RevokedAt and LastUsedAt are zero for "never" (so far).
	ExpiresAt  time.Time
	RevokedAt  time.Time
	LastUsedAt time.Time
}

// Active reports whether the key would authenticate at now, as far as the
// key itself goes (its principal may still be disabled).
func (k KeyInfo) Active(now time.Time) bool {
	return k.RevokedAt.IsZero() && (k.ExpiresAt.IsZero() || now.Before(k.ExpiresAt))
}

func keyPrefix(id string) string { return keyScheme + id + "_" }

// newKey generates a key and returns it with the hash that is stored.
func newKey() (APIKey, []byte, error) {
	var idb [keyIDRandLen]byte
	var secret [secretBytes]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return APIKey{}, nil, fmt.Errorf("generate key id: %w", err)
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return APIKey{}, nil, fmt.Errorf("generate key secret: %w", err)
	}
	id := lowerBase32.EncodeToString(idb[:])[:keyIDLen]
	full := keyPrefix(id) + base64.RawURLEncoding.EncodeToString(secret[:])
	h := hashSecret(secret[:])
	clear(secret[:])
	return APIKey{&full}, h, nil
}

func hashSecret(secret []byte) []byte {
	h := sha256.Sum256(secret)
	return h[:]
}

var strictBase64 = base64.RawURLEncoding.Strict()

// parseKey splits a presented key into its id and secret bytes. It accepts
// exactly what newKey produces and nothing else; its single error says
// nothing about the input.
func parseKey(s string) (id string, secret []byte, ok bool) {
	if len(s) != keyLen || s[:len(keyScheme)] != keyScheme || s[len(keyScheme)+keyIDLen] != '_' {
		return "", nil, false
	}
	id = s[len(keyScheme) : len(keyScheme)+keyIDLen]
	if !isLowerBase32(id) {
		return "", nil, false
	}
	// Strict decoding refuses non-zero padding bits, so one secret has only
	// one spelling; the alphabet check refuses '\r' and '\n', which the
	// decoder would skip.
	enc := s[len(keyScheme)+keyIDLen+1:]
	for _, c := range []byte(enc) {
		if !isBase64URL(c) {
			return "", nil, false
		}
	}
	secret, err := strictBase64.DecodeString(enc)
	if err != nil || len(secret) != secretBytes {
		return "", nil, false
	}
	return id, secret, true
}

func isBase64URL(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}
