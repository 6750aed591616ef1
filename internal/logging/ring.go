package logging

import (
	"bytes"
	"encoding/json"
	"sync"

	"github.com/securecart/securecart/internal/scan"
)

// MaxLineBytes bounds a line the ring keeps whole; a longer one is cut to
// this length and kept as a JSON string.
const MaxLineBytes = 16 << 10

// Ring holds the last lines written to it, each a JSON value. It is an
// io.Writer for slog.JSONHandler, which writes one line per call; Write
// also accepts several lines at once. The zero value holds nothing; use
// NewRing.
//
// The lines should come redacted, as NewHandler writes them. The ring
// applies scan.Redact to each line once more all the same, because what it
// holds is served over HTTP: a writer that bypassed the redacting handler
// still cannot put a card number or a key there.
type Ring struct {
	mu    sync.Mutex
	lines []json.RawMessage // a circular buffer; next is the oldest once full
	next  int
	full  bool
}

// NewRing returns a ring that keeps the last n lines (at least one).
func NewRing(n int) *Ring {
	return &Ring{lines: make([]json.RawMessage, max(n, 1))}
}

// Write stores each non-empty line of p, redacted. A line that is not
// valid JSON, or no longer is once redacted, is kept as a JSON string, so
// that Lines returns JSON whatever was written. Write never fails.
func (r *Ring) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 {
			continue
		}
		r.add(encodeLine(scan.Redact(string(line))))
	}
	return len(p), nil
}

// encodeLine returns line as valid JSON at most about MaxLineBytes long.
func encodeLine(line string) json.RawMessage {
	if len(line) <= MaxLineBytes && json.Valid([]byte(line)) {
		return json.RawMessage(line)
	}
	b, err := json.Marshal(line[:min(len(line), MaxLineBytes)])
	if err != nil { // json.Marshal of a string does not fail
		return json.RawMessage(`""`)
	}
	return b
}

func (r *Ring) add(line json.RawMessage) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) == 0 {
		return
	}
	r.lines[r.next] = line
	r.next++
	if r.next == len(r.lines) {
		r.next, r.full = 0, true
	}
}

// Lines returns the most recent lines, at most limit of them (all that are
// held if limit <= 0), oldest first. The lines must not be modified.
func (r *Ring) Lines(limit int) []json.RawMessage {
	r.mu.Lock()
	defer r.mu.Unlock()

	n := r.next
	if r.full {
		n = len(r.lines)
	}
	if limit > 0 && limit < n {
		n = limit
	}
	out := make([]json.RawMessage, n)
	for i := range out {
		// The newest line is just before next; walk back n lines from it.
		k := (r.next - n + i + len(r.lines)) % len(r.lines)
		out[i] = r.lines[k]
	}
	return out
}
