package audit

import "sync"

// cleanCache remembers strings that passed checkString and in which
// package scan found nothing. Most of a record's strings repeat from one
// record to the next (principal ids, roles, actions, policy ids, a
// client's user agent), and looking them up costs far less than checking
// and scanning them again. It holds only strings found clean, so a
// string put there by anyone can only save work; when full it starts
// again empty.
type cleanCache struct {
	mu    sync.RWMutex
	kinds [2]map[string]struct{} // by textKind
}

// The cache holds at most cleanCacheSize strings of each kind, none longer
// than maxCleanLen bytes.
const (
	cleanCacheSize = 4096
	maxCleanLen    = 256
)

var clean = &cleanCache{kinds: [2]map[string]struct{}{{}, {}}}

func (c *cleanCache) has(k textKind, s string) bool {
	c.mu.RLock()
	_, ok := c.kinds[k][s]
	c.mu.RUnlock()
	return ok
}

// add remembers strings of kind k found clean.
func (c *cleanCache) add(k textKind, ss ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.kinds[k]
	for _, s := range ss {
		if len(m) >= cleanCacheSize {
			m = make(map[string]struct{}, cleanCacheSize)
			c.kinds[k] = m
		}
		m[s] = struct{}{}
	}
}
