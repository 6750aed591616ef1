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

// TestRedactDetectorSet checks which detections the log handler masks:
// the national identifiers and bank accounts too, and a published test
// card number like any other (scan allow-lists do not apply to logs), but
// not IP addresses, which operators need.
func TestRedactDetectorSet(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"test card", "pan 4111 1111 1111 1111", "pan [card ••••1111]"},
		{"ssn", "ssn 123-45-6789 on file", "ssn [redacted ssn] on file"},
		{"iban", "refund to DE89 3704 0044 0532 0130 00", "refund to [redacted iban]"},
		{"aws secret", "aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
			"aws_secret_access_key=[redacted aws_secret_key]"},
		{"national phone", "phone: (415) 555-0100", "phone: [phone]"},
		{"ipv4 kept", "GET /v1/orders from 10.0.0.7", "GET /v1/orders from 10.0.0.7"},
		{"ipv6 kept", "peer 2001:db8::8a2e:370:7334", "peer 2001:db8::8a2e:370:7334"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fmt.Sprint(redactValue(slog.StringValue(tt.in)))
			if got != tt.want {
				t.Errorf("redactValue(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}
