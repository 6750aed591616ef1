package logging

import (
	"context"
	"log/slog"
)

type requestIDKey struct{}

// WithRequestID returns a copy of ctx that carries the request id id.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id ctx carries, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// requestIDHandler adds the context's request id to each record.
type requestIDHandler struct {
	next slog.Handler
}

// NewRequestIDHandler returns a handler that adds KeyRequestID, from the
// context the record is logged with, to each record that does not have it,
// and passes the record to next.
func NewRequestIDHandler(next slog.Handler) slog.Handler {
	return &requestIDHandler{next: next}
}

func (h *requestIDHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if ctx == nil {
		return h.next.Handle(ctx, r)
	}
	id := RequestID(ctx)
	if id == "" || hasKey(r, KeyRequestID) {
		return h.next.Handle(ctx, r)
	}
	r = r.Clone()
	r.AddAttrs(slog.String(KeyRequestID, id))
	return h.next.Handle(ctx, r)
}

func (h *requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &requestIDHandler{next: h.next.WithAttrs(attrs)}
}

func (h *requestIDHandler) WithGroup(name string) slog.Handler {
	return &requestIDHandler{next: h.next.WithGroup(name)}
}

// hasKey reports whether r has a top-level attribute named key.
func hasKey(r slog.Record, key string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == key
		return !found
	})
	return found
}
