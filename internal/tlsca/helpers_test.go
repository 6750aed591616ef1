package tlsca

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"
)

// fakeClock is a Clock that moves only when the test advances it.
type fakeClock struct {
	mu      sync.Mutex
	now     time.Time
	calls   int // calls to After so far
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.now
		return ch
	}
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	return ch
}

// Advance moves the clock and fires every timer that has come due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.now) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.now
	}
	c.waiters = kept
}

func (c *fakeClock) callCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.calls
}

// waitCalls waits until After has been called n times in all, which is how
// a test knows a background loop has finished its previous round.
func (c *fakeClock) waitCalls(t *testing.T, n int) {
	t.Helper()
	eventually(t, func() bool { return c.callCount() >= n })
}

// eventually fails the test if cond does not hold within five seconds.
func eventually(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// recorder is a slog.Handler that keeps the records it receives.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
}

func (r *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (r *recorder) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *recorder) WithGroup(string) slog.Handler            { return r }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.records = append(r.records, rec.Clone())
	return nil
}

// messages returns how many records carry each message.
func (r *recorder) messages() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := map[string]int{}
	for _, rec := range r.records {
		m[rec.Message]++
	}
	return m
}

// suppressedTotal adds up the counts of the summary records.
func (r *recorder) suppressedTotal() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	var n int64
	for _, rec := range r.records {
		rec.Attrs(func(a slog.Attr) bool {
			if a.Key == logKeySuppressed {
				n += a.Value.Int64()
			}
			return true
		})
	}
	return n
}

var (
	testCAOnce sync.Once
	testCA     *CA
	testCAErr  error
)

// sharedCA is one CA for the tests that do not look at its files.
func sharedCA(t *testing.T) *CA {
	t.Helper()
	testCAOnce.Do(func() {
		// The directory goes when the first test ends; the CA stays in
		// memory.
		testCA, testCAErr = OpenCA(t.TempDir())
	})
	if testCAErr != nil {
		t.Fatal(testCAErr)
	}
	return testCA
}

// handshakeResult is what the two sides of a test handshake saw.
type handshakeResult struct {
	state       tls.ConnectionState // the server's
	clientState tls.ConnectionState
	serverErr   error
	clientErr   error
}

// handshake runs one TLS handshake over loopback between a server with cfg
// and a client with clientCfg, and reports both sides.
func handshake(t *testing.T, cfg, clientCfg *tls.Config) handshakeResult {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	type serverSide struct {
		state tls.ConnectionState
		err   error
	}
	done := make(chan serverSide, 1)
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			done <- serverSide{err: err}
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		tc := tls.Server(conn, cfg)
		err = tc.Handshake()
		done <- serverSide{state: tc.ConnectionState(), err: err}
	}()

	dialer := &net.Dialer{Timeout: 5 * time.Second}
	conn, clientErr := tls.DialWithDialer(dialer, "tcp", ln.Addr().String(), clientCfg)
	var clientState tls.ConnectionState
	if clientErr == nil {
		clientState = conn.ConnectionState()
		conn.Close()
	}
	s := <-done
	return handshakeResult{state: s.state, clientState: clientState, serverErr: s.err, clientErr: clientErr}
}
