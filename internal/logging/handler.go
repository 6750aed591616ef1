package logging

import (
	"io"
	"log/slog"
)

// NewHandler returns the handler SecureCart logs through: it adds the
// request id from the context, redacts the record and writes it as a JSON
// line both to w and to ring. Either may be nil. opts applies to both
// outputs as to slog.NewJSONHandler.
func NewHandler(w io.Writer, ring *Ring, opts *slog.HandlerOptions) slog.Handler {
	var outs []slog.Handler
	if w != nil {
		outs = append(outs, slog.NewJSONHandler(w, opts))
	}
	if ring != nil {
		outs = append(outs, slog.NewJSONHandler(ring, opts))
	}
	return NewRequestIDHandler(NewRedactingHandler(slog.NewMultiHandler(outs...)))
}
