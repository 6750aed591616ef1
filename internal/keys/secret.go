package keys

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
)

// KeySize is the length of every symmetric key in the hierarchy.
const KeySize = 32

// secret is 32 bytes of key material. It prints as a fixed placeholder,
// refuses to be marshalled, compares in constant time and can be wiped.
//
// The bytes sit behind a pointer: fmt prints an unexported field with a
// verb its type does not take (a RootKey in a caller's struct printed with
// %s) by walking it with %v, past secret's Format, and would otherwise print
// the array; a nested pointer prints only as an address.
type secret struct {
	b *[KeySize]byte
}

var errMarshalSecret = errors.New("keys: key material cannot be marshalled")

func newSecret() (*secret, error) {
	s := &secret{b: new([KeySize]byte)}
	if _, err := rand.Read(s.b[:]); err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return s, nil
}

func secretFrom(b []byte) (*secret, error) {
	if len(b) != KeySize {
		return nil, fmt.Errorf("key material must be %d bytes, got %d", KeySize, len(b))
	}
	s := &secret{b: new([KeySize]byte)}
	copy(s.b[:], b)
	return s, nil
}

func (s *secret) String() string                 { return "[key material]" }
func (s *secret) GoString() string               { return "[key material]" }
func (s *secret) Format(f fmt.State, _ rune)     { f.Write([]byte("[key material]")) }
func (s *secret) MarshalJSON() ([]byte, error)   { return nil, errMarshalSecret }
func (s *secret) MarshalText() ([]byte, error)   { return nil, errMarshalSecret }
func (s *secret) MarshalBinary() ([]byte, error) { return nil, errMarshalSecret }

// Equal compares two secrets in constant time.
func (s *secret) Equal(o *secret) bool {
	return subtle.ConstantTimeCompare(s.b[:], o.b[:]) == 1
}

// wipe zeroes the material.
func (s *secret) wipe() { clear(s.b[:]) }

// aead returns AES-256-GCM under the secret.
func (s *secret) aead() (cipher.AEAD, error) {
	block, err := aes.NewCipher(s.b[:])
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// id is a key check value: it names the key without revealing it, so that a
// keystore can tell whether it was given the right root key.
func (s *secret) id() string {
	m := hmac.New(sha256.New, s.b[:])
	m.Write([]byte("securecart key check value"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}
