// Package envelope defines SecureCart's sealed-field format: a short binary
// header naming the key that sealed a value, then the AES-256-GCM ciphertext.
//
// # Format (version 1)
//
//	offset  size  field
//	     0     1  format version, always 1
//	     1     1  key domain (see Domain)
//	     2     8  key id, big-endian
//	    10     4  key version, big-endian
//	    14    12  nonce, random
//	    26     n  ciphertext followed by the 16-byte GCM tag
//
// The additional authenticated data is the 26-byte header followed by the
// Binding: the table, column and row the value belongs to, each prefixed with
// its length in one byte. A sealed value therefore opens only in the place it
// was written and only under the key its header names: a ciphertext copied to
// another row, column or customer, or a header edited to name another key,
// fails to open.
//
// # Failure
//
// Parse rejects every byte string Seal would not produce (ErrMalformed). Open
// returns ErrAuth for any authentication failure, whether the ciphertext was
// altered, the binding is wrong or the key is not the one that sealed it; it
// never says which and never returns partial plaintext.
//
// Nonces are 96 random bits per seal. The key hierarchy in package keys caps
// the number of seals per key far below 2^32, where random nonces would start
// to risk a collision.
//
// The package imports nothing else of SecureCart.
package envelope

import (
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
)

// Version is the only format version this package writes and reads.
const Version = 1

const (
	// HeaderSize is the length of the header that precedes the ciphertext.
	HeaderSize = 26
	// NonceSize is the GCM nonce length.
	NonceSize = 12
	// TagSize is the GCM tag length.
	TagSize = 16
	// Overhead is how many bytes sealing adds to a plaintext.
	Overhead = HeaderSize + TagSize
	// MaxPlaintext bounds a single sealed value. Fields are small; larger
	// objects (backup segments) are split before sealing.
	MaxPlaintext = 64 << 20
	// MaxBindingPart bounds each of table, column and row in a Binding.
	MaxBindingPart = 255
)

// Domain is the key domain a sealed value belongs to. Each domain has its
// own key-encryption keys, so a key of one domain never opens another's data.
type Domain uint8

// The key domains.
const (
	CustomerPII  Domain = 1
	PaymentCard  Domain = 2
	Orders       Domain = 3
	Backup       Domain = 4
	BlindIndex   Domain = 5
	AuditSigning Domain = 6
)

// Domains lists every domain in order.
var Domains = []Domain{CustomerPII, PaymentCard, Orders, Backup, BlindIndex, AuditSigning}

var domainNames = map[Domain]string{
	CustomerPII:  "customer-pii",
	PaymentCard:  "payment-card",
	Orders:       "orders",
	Backup:       "backup",
	BlindIndex:   "blind-index",
	AuditSigning: "audit-signing",
}

// String returns the domain's name as the command line spells it.
func (d Domain) String() string {
	if n, ok := domainNames[d]; ok {
		return n
	}
	return fmt.Sprintf("domain(%d)", uint8(d))
}

// Valid reports whether d is one of the defined domains.
func (d Domain) Valid() bool {
	return d >= CustomerPII && d <= AuditSigning
}

// ParseDomain returns the domain with the given name.
func ParseDomain(name string) (Domain, error) {
	for d, n := range domainNames {
		if n == name {
			return d, nil
		}
	}
	return 0, fmt.Errorf("unknown key domain %q", name)
}

// Errors returned by Parse and Open.
var (
	// ErrMalformed means the bytes are not a version-1 envelope.
	ErrMalformed = errors.New("envelope: malformed")
	// ErrAuth means the envelope did not authenticate: it was altered, it is
	// bound to another place, or the key is not the one that sealed it.
	ErrAuth = errors.New("envelope: authentication failed")
	// ErrBinding means a Binding part is empty or too long.
	ErrBinding = errors.New("envelope: invalid binding")
	// ErrTooLarge means the plaintext exceeds MaxPlaintext.
	ErrTooLarge = errors.New("envelope: plaintext too large")
)

// Header names the key that sealed a value.
type Header struct {
	Domain     Domain
	KeyID      uint64
	KeyVersion uint32
}

// Binding is the place a sealed value belongs to. It is authenticated but
// not stored in the envelope: the reader supplies it from where it found
// the value.
type Binding struct {
	Table  string
	Column string
	Row    string
}

func (b Binding) valid() bool {
	return validPart(b.Table) && validPart(b.Column) && validPart(b.Row)
}

func validPart(p string) bool {
	return len(p) > 0 && len(p) <= MaxBindingPart
}

func aadSize(b Binding) int {
	return HeaderSize + 3 + len(b.Table) + len(b.Column) + len(b.Row)
}

// appendAAD appends the additional data for header bytes hdr and binding b.
func appendAAD(dst, hdr []byte, b Binding) []byte {
	dst = append(dst, hdr...)
	dst = append(append(dst, byte(len(b.Table))), b.Table...)
	dst = append(append(dst, byte(len(b.Column))), b.Column...)
	return append(append(dst, byte(len(b.Row))), b.Row...)
}

// Seal encrypts plaintext with aead, which must be AES-256-GCM under the key
// that h names, and binds it to b.
func Seal(aead cipher.AEAD, h Header, b Binding, plaintext []byte) ([]byte, error) {
	if !h.Domain.Valid() {
		return nil, fmt.Errorf("seal: %w", ErrMalformed)
	}
	if !b.valid() {
		return nil, ErrBinding
	}
	if len(plaintext) > MaxPlaintext {
		return nil, ErrTooLarge
	}
	if aead.NonceSize() != NonceSize || aead.Overhead() != TagSize {
		return nil, errors.New("envelope: aead must be AES-GCM with a 12-byte nonce")
	}

	// One allocation holds the envelope and, past its end, the additional
	// data (which is not secret); the returned slice's capacity stops short
	// of it.
	n := HeaderSize + len(plaintext) + TagSize
	mem := make([]byte, n+aadSize(b))
	out := mem[:HeaderSize:n]
	out[0] = Version
	out[1] = byte(h.Domain)
	binary.BigEndian.PutUint64(out[2:10], h.KeyID)
	binary.BigEndian.PutUint32(out[10:14], h.KeyVersion)
	if _, err := rand.Read(out[14:HeaderSize]); err != nil {
		return nil, fmt.Errorf("seal: read nonce: %w", err)
	}

	aad := appendAAD(mem[n:n], out, b)
	return aead.Seal(out, out[14:HeaderSize], plaintext, aad), nil
}

// Parts is a parsed envelope: its header, nonce and ciphertext with tag.
type Parts struct {
	Header
	Nonce      [NonceSize]byte
	Ciphertext []byte
}

// Split parses sealed into its parts without authenticating it. The
// ciphertext aliases sealed.
func Split(sealed []byte) (Parts, error) {
	h, err := Parse(sealed)
	if err != nil {
		return Parts{}, err
	}
	p := Parts{Header: h, Ciphertext: sealed[HeaderSize:]}
	copy(p.Nonce[:], sealed[14:HeaderSize])
	return p, nil
}

// Bytes encodes p; for any sealed value that Split accepts,
// Split(sealed).Bytes() equals sealed.
func (p Parts) Bytes() []byte {
	out := make([]byte, HeaderSize, HeaderSize+len(p.Ciphertext))
	out[0] = Version
	out[1] = byte(p.Domain)
	binary.BigEndian.PutUint64(out[2:10], p.KeyID)
	binary.BigEndian.PutUint32(out[10:14], p.KeyVersion)
	copy(out[14:], p.Nonce[:])
	return append(out, p.Ciphertext...)
}

// Parse checks that sealed has the shape of a version-1 envelope and returns
// its header. It does not authenticate anything.
func Parse(sealed []byte) (Header, error) {
	if len(sealed) < HeaderSize+TagSize || len(sealed) > HeaderSize+MaxPlaintext+TagSize {
		return Header{}, ErrMalformed
	}
	if sealed[0] != Version {
		return Header{}, ErrMalformed
	}
	h := Header{
		Domain:     Domain(sealed[1]),
		KeyID:      binary.BigEndian.Uint64(sealed[2:10]),
		KeyVersion: binary.BigEndian.Uint32(sealed[10:14]),
	}
	if !h.Domain.Valid() {
		return Header{}, ErrMalformed
	}
	return h, nil
}

// Open authenticates and decrypts sealed with aead, which must be the key its
// header names, for the place b. It returns ErrMalformed or ErrAuth and never
// partial plaintext.
func Open(aead cipher.AEAD, sealed []byte, b Binding) ([]byte, error) {
	if _, err := Parse(sealed); err != nil {
		return nil, err
	}
	if !b.valid() {
		return nil, ErrBinding
	}
	ptLen := len(sealed) - HeaderSize - TagSize
	mem := make([]byte, ptLen+aadSize(b))
	aad := appendAAD(mem[ptLen:ptLen], sealed[:HeaderSize], b)
	pt, err := aead.Open(mem[:0:ptLen], sealed[14:HeaderSize], sealed[HeaderSize:], aad)
	if err != nil {
		clear(mem[:ptLen])
		return nil, ErrAuth
	}
	return pt, nil
}

// MarshalText spells the domain by name.
func (d Domain) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("unknown key domain %d", uint8(d))
	}
	return []byte(d.String()), nil
}
