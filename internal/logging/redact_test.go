package logging

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

type panicStringer struct{}

func (panicStringer) String() string { panic("no string for card " + testPAN) }

type ptrError struct{ msg string }

func (e *ptrError) Error() string { return e.msg }

type plainChan struct {
	Note string
	C    chan int
}

func TestRedactValue(t *testing.T) {
	tests := []struct {
		name string
		in   slog.Value
		want string // the value's %v after redaction
	}{
		{"string", slog.StringValue("pan " + testPAN), "pan [card ••••1111]"},
		{"clean string", slog.StringValue("ord_42"), "ord_42"},
		{"small int", slog.Int64Value(42), "42"},
		{"order number", slog.Int64Value(100000000042), "100000000042"},
		{"card int", slog.Int64Value(4111111111111111), "[card ••••1111]"},
		{"negative card", slog.Int64Value(-4111111111111111), "-[card ••••1111]"},
		{"fraction", slog.Float64Value(4111111111111111.5), "4.1111111111111115e+15"},
		{"bool", slog.BoolValue(true), "true"},
		{"panicking stringer", slog.AnyValue(panicStringer{}),
			"!PANIC: no string for card [card ••••1111]"},
		{"nil error pointer", slog.AnyValue((*ptrError)(nil)),
			"!PANIC: runtime error: invalid memory address or nil pointer dereference"},
		{"error", slog.AnyValue(&ptrError{"bad " + testEmail}), "bad j•••@example.com"},
		{"not JSON", slog.AnyValue(plainChan{Note: testEmail}), "{Note:j•••@example.com C:<nil>}"},
		{"nil", slog.AnyValue(nil), "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fmt.Sprint(redactValue(tt.in))
			if got != tt.want {
				t.Errorf("redactValue(%s) = %q, want %q", tt.name, got, tt.want)
			}
			if strings.Contains(got, testPAN) || strings.Contains(got, testEmail) {
				t.Errorf("redactValue(%s) leaks: %q", tt.name, got)
			}
		})
	}
}
