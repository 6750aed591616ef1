package identity

import (
	"crypto/subtle"
	"sync"
	"time"
)

// Verified keys
//
// Reading the directory for every request would make authentication the
// most expensive step of a cheap read. A node therefore remembers, for
// VerifiedTTL, each key it has just verified: the hash of its secret, its
// expiry and its principal. A presented key still has to hash to the
// remembered value (compared in constant time) and must not have expired.
// Revoking a key or disabling a principal on this node forgets its entries
// at once; on other nodes of a cluster it takes effect within VerifiedTTL.

// VerifiedTTL is how long a verified key is trusted without reading the
// directory again.
const VerifiedTTL = 5 * time.Second

// maxVerified bounds the remembered keys.
const maxVerified = 10000

type verifiedKey struct {
	hash      []byte
	principal Principal
	expires   int64 // Unix microseconds, 0 for never
	used      time.Time
	at        time.Time
}

type verifiedCache struct {
	mu   sync.Mutex
	keys map[string]verifiedKey // key id -> entry
}

// get returns the principal of a remembered key and the key's last use as
// stored when it was verified.
func (c *verifiedCache) get(id string, hash []byte, now time.Time) (*Principal, time.Time, bool) {
	c.mu.Lock()
	v, ok := c.keys[id]
	c.mu.Unlock()
	if !ok || now.Sub(v.at) >= VerifiedTTL || now.Before(v.at) {
		return nil, time.Time{}, false
	}
	if subtle.ConstantTimeCompare(hash, v.hash) != 1 {
		return nil, time.Time{}, false
	}
	if v.expires != 0 && now.UnixMicro() >= v.expires {
		return nil, time.Time{}, false
	}
	p := v.principal
	p.Roles = append([]Role(nil), v.principal.Roles...)
	return &p, v.used, true
}

func (c *verifiedCache) put(id string, hash []byte, p *Principal, expires int64, used, now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.keys == nil || len(c.keys) >= maxVerified {
		c.keys = make(map[string]verifiedKey)
	}
	c.keys[id] = verifiedKey{hash: hash, principal: *p, expires: expires, used: used, at: now}
}

// forgetKey drops one key; forgetPrincipal every key of a principal.
func (c *verifiedCache) forgetKey(id string) {
	c.mu.Lock()
	delete(c.keys, id)
	c.mu.Unlock()
}

func (c *verifiedCache) forgetPrincipal(principalID string) {
	c.mu.Lock()
	for id, v := range c.keys {
		if v.principal.ID == principalID {
			delete(c.keys, id)
		}
	}
	c.mu.Unlock()
}
