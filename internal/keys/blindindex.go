package keys

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"hash"
	"sync"

	"github.com/securecart/securecart/internal/envelope"
)

// Blind index
//
// A blind index lets the store find a row by an exact value (a customer's
// normalized email) without decrypting anything: the store keeps
//
//	token = version (4 bytes, big-endian) || HMAC-SHA-256(K_v, field || 0 || value)[:12]
//
// where K_v is derived with HKDF from version v of the blind-index KEK.
// Truncating the tag to 96 bits keeps the index small; the chance that two
// different values share a token is about n²/2^97 for n values (under
// 10^-16 for a million customers), and the store confirms a match by opening
// the sealed value anyway. The trade-off that remains is the one every
// deterministic index has: equal values have equal tokens, so someone who
// reads the table learns which rows share a value (not what it is), and a
// thief who also has the key can test guesses. The key never leaves the
// keystore and is rotated like any other; after a rotation the store
// re-indexes online and lookups try every live version meanwhile.

// BlindTokenSize is the length of a blind-index token.
const BlindTokenSize = 4 + 12

type blindKey struct {
	pool sync.Pool // of hash.Hash
}

func (k *Keystore) blindKey(kk *kek) (*blindKey, error) {
	k.bidxMu.Lock()
	defer k.bidxMu.Unlock()
	if bk, ok := k.bidx[kk.version]; ok {
		return bk, nil
	}
	key, err := hkdf.Key(sha256.New, kk.material.b[:], nil, "securecart blind index", 32)
	if err != nil {
		return nil, err
	}
	bk := &blindKey{}
	bk.pool.New = func() any { return hmac.New(sha256.New, key) }
	k.bidx[kk.version] = bk
	return bk, nil
}

func (k *Keystore) blindToken(kk *kek, field string, value []byte) ([]byte, error) {
	bk, err := k.blindKey(kk)
	if err != nil {
		return nil, err
	}
	h := bk.pool.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte(field))
	h.Write([]byte{0})
	h.Write(value)
	var sum [sha256.Size]byte
	out := make([]byte, 4, BlindTokenSize)
	binary.BigEndian.PutUint32(out, kk.version)
	out = append(out, h.Sum(sum[:0])[:12]...)
	bk.pool.Put(h)
	return out, nil
}

// BlindToken returns the token of value in field under the active
// blind-index key, for writing.
func (k *Keystore) BlindToken(field string, value []byte) ([]byte, error) {
	kk, err := k.active(envelope.BlindIndex)
	if err != nil {
		return nil, err
	}
	return k.blindToken(kk, field, value)
}

// BlindTokens returns the tokens of value under every live blind-index
// version, newest first, for lookups during a re-index.
func (k *Keystore) BlindTokens(field string, value []byte) ([][]byte, error) {
	k.mu.RLock()
	list := append([]*kek(nil), k.keks[envelope.BlindIndex]...)
	k.mu.RUnlock()
	var out [][]byte
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].state == Destroyed || list[i].material == nil {
			continue
		}
		t, err := k.blindToken(list[i], field, value)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	if len(out) == 0 {
		return nil, errors.New("keys: no live blind-index key")
	}
	return out, nil
}

// BlindVersion returns the key version a token was made with.
func BlindVersion(token []byte) uint32 {
	if len(token) != BlindTokenSize {
		return 0
	}
	return binary.BigEndian.Uint32(token)
}

// ActiveVersion returns the active KEK version of d.
func (k *Keystore) ActiveVersion(d Domain) (uint32, error) {
	kk, err := k.active(d)
	if err != nil {
		return 0, err
	}
	return kk.version, nil
}
