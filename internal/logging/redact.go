package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"strconv"

	"github.com/securecart/securecart/internal/scan"
)

// redactingHandler redacts records before passing them to next.
type redactingHandler struct {
	next slog.Handler
}

// NewRedactingHandler returns a handler that passes every record to next
// with scan.Redact applied to its message, keys and values, as the package
// documentation describes.
func NewRedactingHandler(next slog.Handler) slog.Handler {
	return &redactingHandler{next: next}
}

func (h *redactingHandler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

func (h *redactingHandler) Handle(ctx context.Context, r slog.Record) error {
	out := slog.NewRecord(r.Time, r.Level, scan.Redact(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		out.AddAttrs(redactAttr(a))
		return true
	})
	return h.next.Handle(ctx, out)
}

func (h *redactingHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &redactingHandler{next: h.next.WithAttrs(redactAttrs(attrs))}
}

func (h *redactingHandler) WithGroup(name string) slog.Handler {
	return &redactingHandler{next: h.next.WithGroup(scan.Redact(name))}
}

func redactAttrs(attrs []slog.Attr) []slog.Attr {
	out := make([]slog.Attr, len(attrs))
	for i, a := range attrs {
		out[i] = redactAttr(a)
	}
	return out
}

func redactAttr(a slog.Attr) slog.Attr {
	return slog.Attr{Key: scan.Redact(a.Key), Value: redactValue(a.Value)}
}

// redactValue returns v with everything that can hold text redacted.
func redactValue(v slog.Value) slog.Value {
	v = v.Resolve()
	switch v.Kind() {
	case slog.KindString:
		return slog.StringValue(scan.Redact(v.String()))
	case slog.KindGroup:
		return slog.GroupValue(redactAttrs(v.Group())...)
	case slog.KindInt64:
		return redactNumber(v, strconv.FormatInt(v.Int64(), 10))
	case slog.KindUint64:
		return redactNumber(v, strconv.FormatUint(v.Uint64(), 10))
	case slog.KindFloat64:
		f := v.Float64()
		if f != math.Trunc(f) || math.Abs(f) >= 1e20 {
			return v
		}
		return redactNumber(v, strconv.FormatFloat(f, 'f', 0, 64))
	case slog.KindAny:
		return redactAny(v.Any())
	}
	return v
}

// redactNumber returns v unless its decimal form text is sensitive (a card
// number logged as an integer), in which case it returns the mask.
func redactNumber(v slog.Value, text string) slog.Value {
	if len(text) < 12 { // shorter than any card number: skip the scan
		return v
	}
	if r := scan.Redact(text); r != text {
		return slog.StringValue(r)
	}
	return v
}

// redactAny renders x as text or JSON, the way a handler would, and redacts
// that.
func redactAny(x any) (v slog.Value) {
	defer func() {
		if p := recover(); p != nil {
			v = slog.StringValue("!PANIC: " + scan.Redact(fmt.Sprint(p)))
		}
	}()

	switch x := x.(type) {
	case nil:
		return slog.AnyValue(nil)
	case error:
		return slog.StringValue(scan.Redact(x.Error()))
	case fmt.Stringer:
		return slog.StringValue(scan.Redact(x.String()))
	case []byte:
		return slog.StringValue(scan.Redact(string(x)))
	}

	b, err := json.Marshal(x)
	if err != nil {
		return slog.StringValue(scan.Redact(fmt.Sprintf("%+v", x)))
	}
	text := scan.Redact(string(b))
	if !json.Valid([]byte(text)) {
		// A mask replaced something that was not inside a JSON string,
		// such as a card number written as a number.
		return slog.StringValue(text)
	}
	return slog.AnyValue(jsonText(text))
}

// jsonText is a value already encoded as JSON and redacted. The JSON
// handler writes it as it is; a text handler writes it as text.
type jsonText string

func (j jsonText) MarshalJSON() ([]byte, error) { return []byte(j), nil }
func (j jsonText) MarshalText() ([]byte, error) { return []byte(j), nil }
