package keys

import (
	"sync"
	"sync/atomic"
)

// cache is a bounded map with approximate least-recently-used eviction,
// made for the read-mostly path of sealing and opening: a hit takes a read
// lock and stamps the entry, and only inserts take the write lock. When it
// is full, an insert evicts the stalest of a few sampled entries, as Redis
// does, instead of keeping an exact recency list that every hit would have
// to reorder under an exclusive lock.
type cache[K comparable, V any] struct {
	mu    sync.RWMutex
	m     map[K]*cacheEntry[V]
	size  int
	clock atomic.Uint64
}

type cacheEntry[V any] struct {
	v    V
	used atomic.Uint64
}

// evictSample is how many entries an eviction looks at.
const evictSample = 8

func newCache[K comparable, V any](size int) *cache[K, V] {
	return &cache[K, V]{m: make(map[K]*cacheEntry[V]), size: size}
}

// Get returns the value for k and marks it used.
func (c *cache[K, V]) Get(k K) (V, bool) {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e == nil {
		var zero V
		return zero, false
	}
	e.used.Store(c.clock.Add(1))
	return e.v, true
}

// Peek returns the value for k without marking it used.
func (c *cache[K, V]) Peek(k K) (V, bool) {
	c.mu.RLock()
	e := c.m[k]
	c.mu.RUnlock()
	if e == nil {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Add stores v under k, evicting a stale entry if the cache is full.
func (c *cache[K, V]) Add(k K, v V) {
	e := &cacheEntry[V]{v: v}
	e.used.Store(c.clock.Add(1))
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[k]; !ok && len(c.m) >= c.size {
		c.evictLocked()
	}
	c.m[k] = e
}

// evictLocked removes the least recently used of a few entries; Go's map
// iteration starts at a random place, which makes the sample random.
func (c *cache[K, V]) evictLocked() {
	var (
		victim K
		oldest uint64
		n      int
	)
	for k, e := range c.m {
		if u := e.used.Load(); n == 0 || u < oldest {
			victim, oldest = k, u
		}
		if n++; n == evictSample {
			break
		}
	}
	if n > 0 {
		delete(c.m, victim)
	}
}

// Remove deletes k.
func (c *cache[K, V]) Remove(k K) {
	c.mu.Lock()
	delete(c.m, k)
	c.mu.Unlock()
}

// Len returns the number of entries.
func (c *cache[K, V]) Len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}

// Purge removes every entry.
func (c *cache[K, V]) Purge() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}
