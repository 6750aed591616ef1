package server

import (
	"math"
	"sync"
	"time"
)

// Limit is a token bucket: Rate tokens a second, up to Burst at once.
type Limit struct {
	Rate  float64
	Burst int
}

// RateLimiter keeps one token bucket per principal, with the limit of its
// role. Buckets idle long enough to be full again are dropped, so memory
// stays proportional to the principals active recently.
type RateLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
	now     func() time.Time
	sweepAt time.Time
}

type bucket struct {
	tokens float64
	last   time.Time
	limit  Limit
}

// NewRateLimiter returns a limiter; now is the clock (nil for time.Now).
func NewRateLimiter(now func() time.Time) *RateLimiter {
	if now == nil {
		now = time.Now
	}
	return &RateLimiter{buckets: make(map[string]*bucket), now: now}
}

// Allow takes a token from principal's bucket. When none is left it returns
// false and how long until one is.
func (l *RateLimiter) Allow(principal string, lim Limit) (bool, time.Duration) {
	if lim.Rate <= 0 || lim.Burst <= 0 {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweep(now)
	b, ok := l.buckets[principal]
	if !ok || b.limit != lim {
		b = &bucket{tokens: float64(lim.Burst), last: now, limit: lim}
		l.buckets[principal] = b
	}
	if elapsed := now.Sub(b.last).Seconds(); elapsed > 0 {
		b.tokens = math.Min(float64(lim.Burst), b.tokens+elapsed*lim.Rate)
		b.last = now
	}
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) / lim.Rate * float64(time.Second))
	return false, wait
}

// sweep drops full buckets once a minute. l.mu is held.
func (l *RateLimiter) sweep(now time.Time) {
	if now.Before(l.sweepAt) {
		return
	}
	l.sweepAt = now.Add(time.Minute)
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*b.limit.Rate >= float64(b.limit.Burst) {
			delete(l.buckets, k)
		}
	}
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least 1.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}
