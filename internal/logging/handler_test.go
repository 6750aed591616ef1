package logging

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

// Sensitive test values: published test card numbers and made-up secrets.
const (
	testPAN    = "4111111111111111"
	testPAN2   = "5555555555554444"
	testEmail  = "jane.doe@example.com"
	testPhone  = "+14155550100"
	testAPIKey = "sck_abcdefgh2345_Ab3-_xAb3-_xAb3-_xAb3-_xAb3-_xAb3-_xAb3-_xQ"
)

var testJWT = b64(`{"alg":"HS256"}`) + "." + b64(`{"sub":"cus_1"}`) + ".c2lnbmF0dXJl"

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

type customer struct {
	ID    string
	Email string
}

type secretStringer struct{ pan string }

func (s secretStringer) String() string { return "card " + s.pan }

type secretValuer struct{}

func (secretValuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("key", testAPIKey), slog.Int("n", 1))
}

// newTestLogger returns a logger that writes to a buffer and a ring.
func newTestLogger() (*slog.Logger, *bytes.Buffer, *Ring) {
	var buf bytes.Buffer
	ring := NewRing(100)
	return slog.New(NewHandler(&buf, ring, nil)), &buf, ring
}

func TestHandlerRedacts(t *testing.T) {
	tests := []struct {
		name   string
		log    func(*slog.Logger)
		secret string // must appear in no output
		mask   string // must appear in both
	}{
		{"message card", func(l *slog.Logger) { l.Info("charge 4111 1111 1111 1111 declined") },
			"4111 1111 1111 1111", "[card ••••1111]"},
		{"message email", func(l *slog.Logger) { l.Info("mail to " + testEmail) },
			testEmail, "j•••@example.com"},
		{"message key", func(l *slog.Logger) { l.Warn("bad key " + testAPIKey) },
			testAPIKey, "[redacted api_key]"},
		{"string attr", func(l *slog.Logger) { l.Info("x", "email", testEmail) },
			testEmail, "j•••@example.com"},
		{"attr key", func(l *slog.Logger) { l.Info("x", testEmail, 1) },
			testEmail, "j•••@example.com"},
		{"int attr", func(l *slog.Logger) { l.Info("x", "pan", int64(4111111111111111)) },
			testPAN, "[card ••••1111]"},
		{"uint attr", func(l *slog.Logger) { l.Info("x", "pan", uint64(5555555555554444)) },
			testPAN2, "[card ••••4444]"},
		{"float attr", func(l *slog.Logger) { l.Info("x", "pan", 4111111111111111.0) },
			testPAN, "[card ••••1111]"},
		{"error", func(l *slog.Logger) {
			err := fmt.Errorf("open: key %s: %w", testAPIKey, errors.ErrUnsupported)
			l.Error("x", KeyErr, err)
		}, testAPIKey, "[redacted api_key]"},
		{"stringer", func(l *slog.Logger) { l.Info("x", "card", secretStringer{testPAN}) },
			testPAN, "card [card ••••1111]"},
		{"bytes", func(l *slog.Logger) { l.Info("x", "body", []byte("pan="+testPAN)) },
			testPAN, "pan=[card ••••1111]"},
		{"struct", func(l *slog.Logger) { l.Info("x", "customer", customer{"cus_1", testEmail}) },
			testEmail, `"Email":"j•••@example.com"`},
		{"map with number", func(l *slog.Logger) {
			l.Info("x", "m", map[string]any{"pan": 4111111111111111})
		}, testPAN, `"m":"{\"pan\":[card ••••1111]}"`},
		{"log valuer", func(l *slog.Logger) { l.Info("x", "v", secretValuer{}) },
			testAPIKey, "[redacted api_key]"},
		{"group", func(l *slog.Logger) {
			l.Info("x", slog.Group("customer", slog.String("phone", testPhone),
				slog.Group("card", slog.String("number", testPAN2))))
		}, testPAN2, "[card ••••4444]"},
		{"group phone", func(l *slog.Logger) {
			l.Info("x", slog.Group("c", slog.String("phone", testPhone)))
		}, testPhone, `"c":{"phone":"[phone]"}`},
		{"with", func(l *slog.Logger) { l.With("auth", "Bearer "+testJWT).Info("x") },
			testJWT, "Bearer [redacted jwt]"},
		{"with group", func(l *slog.Logger) { l.WithGroup("req").With("email", testEmail).Info("x") },
			testEmail, `"req":{"email":"j•••@example.com"}`},
		{"group name", func(l *slog.Logger) { l.WithGroup(testEmail).Info("x", "a", 1) },
			testEmail, "j•••@example.com"},
		{"request id", func(l *slog.Logger) {
			l.InfoContext(WithRequestID(context.Background(), "req "+testPAN), "x")
		}, testPAN, `"request_id":"req [card ••••1111]"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			log, buf, ring := newTestLogger()
			tt.log(log)

			written := strings.TrimSuffix(buf.String(), "\n")
			lines := ring.Lines(0)
			if len(lines) != 1 {
				t.Fatalf("ring holds %d lines, want 1", len(lines))
			}
			if string(lines[0]) != written {
				t.Errorf("ring and writer differ:\nring   %s\nwriter %s", lines[0], written)
			}
			if !json.Valid([]byte(written)) {
				t.Errorf("line is not JSON: %s", written)
			}
			if strings.Contains(written, tt.secret) {
				t.Errorf("line holds %q: %s", tt.secret, written)
			}
			if !strings.Contains(written, tt.mask) {
				t.Errorf("line lacks %q: %s", tt.mask, written)
			}
		})
	}
}

func TestHandlerKeepsCleanRecords(t *testing.T) {
	log, buf, _ := newTestLogger()
	log.Info("order created", KeySubsystem, "api", "order", "ord_42", "total", 1999,
		slog.Group("req", slog.String(KeyMethod, "POST"), slog.Int(KeyStatus, 201)))

	var got map[string]any
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("decode line: %v", err)
	}
	want := map[string]any{
		"msg": "order created", "subsystem": "api", "order": "ord_42", "total": 1999.0,
		"req": map[string]any{"method": "POST", "status": 201.0},
	}
	for k, v := range want {
		if fmt.Sprint(got[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, got[k], v)
		}
	}
}

func TestHandlerLevel(t *testing.T) {
	var buf bytes.Buffer
	ring := NewRing(10)
	log := slog.New(NewHandler(&buf, ring, &slog.HandlerOptions{Level: slog.LevelWarn}))
	log.Info("dropped")
	log.Warn("kept")
	if n := len(ring.Lines(0)); n != 1 {
		t.Errorf("ring holds %d lines, want 1", n)
	}
	if strings.Contains(buf.String(), "dropped") {
		t.Errorf("writer got an Info record at level Warn: %s", buf.String())
	}
}
