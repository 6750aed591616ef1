package tlsca

import (
	"context"
	"log"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultHandshakeLinesPerMinute is the log budget of NewHandshakeErrors
// when it is given none.
const DefaultHandshakeLinesPerMinute = 20

// Log keys of the lines HandshakeErrors writes.
const (
	logKeyDetail     = "detail"
	logKeySuppressed = "suppressed"
)

const (
	handshakeMarker = "TLS handshake error"
	maxDetail       = 512
	window          = time.Minute
)

// HandshakeErrors counts the failed TLS handshakes net/http reports and
// logs them at a bounded rate. Use it as http.Server.ErrorLog through
// Logger.
type HandshakeErrors struct {
	log       *slog.Logger
	perMinute int
	clock     Clock
	count     atomic.Uint64

	mu          sync.Mutex
	windowStart time.Time
	logged      int // lines logged in the current window
	suppressed  int // lines dropped in the current window
}

// NewHandshakeErrors logs through log at most perMinute handshake errors a
// minute (DefaultHandshakeLinesPerMinute if perMinute is not positive). A
// nil log discards the lines and keeps counting.
func NewHandshakeErrors(log *slog.Logger, perMinute int) *HandshakeErrors {
	if perMinute <= 0 {
		perMinute = DefaultHandshakeLinesPerMinute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &HandshakeErrors{log: log, perMinute: perMinute, clock: systemClock{}}
}

// Logger returns a logger for http.Server.ErrorLog. Handshake errors go
// through the rate limit; other lines are logged as warnings.
func (h *HandshakeErrors) Logger() *log.Logger {
	return log.New(errorLogWriter{h}, "", 0)
}

// Count returns how many handshake errors have been reported, logged or
// not.
func (h *HandshakeErrors) Count() uint64 { return h.count.Load() }

type errorLogWriter struct{ h *HandshakeErrors }

// Write receives one line per call, as log.Logger guarantees.
func (w errorLogWriter) Write(p []byte) (int, error) {
	w.h.line(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (h *HandshakeErrors) line(text string) {
	if len(text) > maxDetail {
		text = strings.ToValidUTF8(text[:maxDetail], "")
	}
	if !strings.Contains(text, handshakeMarker) {
		h.log.Warn("http server error", logKeyDetail, text)
		return
	}
	h.count.Add(1)

	h.mu.Lock()
	now := h.clock.Now()
	var previous int
	if now.Sub(h.windowStart) >= window {
		previous = h.suppressed
		h.windowStart, h.logged, h.suppressed = now, 0, 0
	}
	logIt := h.logged < h.perMinute
	if logIt {
		h.logged++
	} else {
		h.suppressed++
		if h.suppressed == 1 {
			go h.summarizeAt(h.windowStart)
		}
	}
	h.mu.Unlock()

	if previous > 0 {
		h.summarize(previous)
	}
	if logIt {
		h.log.Info("tls handshake failed", logKeyDetail, strings.TrimPrefix(text, "http: "))
	}
}

// summarizeAt logs the suppressed count of the window that started at
// start when it ends, unless a later line has already done so.
func (h *HandshakeErrors) summarizeAt(start time.Time) {
	<-h.clock.After(start.Add(window).Sub(h.clock.Now()))

	h.mu.Lock()
	var k int
	if h.windowStart.Equal(start) {
		k, h.suppressed = h.suppressed, 0
	}
	h.mu.Unlock()

	if k > 0 {
		h.summarize(k)
	}
}

func (h *HandshakeErrors) summarize(k int) {
	h.log.LogAttrs(context.Background(), slog.LevelWarn, "suppressed handshake errors",
		slog.Int(logKeySuppressed, k))
}
