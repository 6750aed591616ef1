package scan

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"clean", "GET /v1/products 200 12ms", "GET /v1/products 200 12ms"},
		{"card", "pan 4111 1111 1111 1111 declined", "pan [card ••••1111] declined"},
		{"amex", "378282246310005", "[card ••••0005]"},
		{"email", "sent to john.doe@example.com.", "sent to j•••@example.com."},
		{"phone", "call +1 (415) 555-0100 now", "call [phone] now"},
		{"api key", "key=" + testKey, "key=[redacted api_key]"},
		{"bearer", "Authorization: Bearer abc123def456", "Authorization: Bearer [redacted bearer]"},
		{"jwt", "Bearer " + testJWT, "Bearer [redacted jwt]"},
		{"aws", "AKIAIOSFODNN7EXAMPLE", "[redacted aws_access_key]"},
		{"url", "postgres://app:hunter2@db/shop", "postgres://app:[redacted url_password]@db/shop"},
		{"pem", "k=" + testPEM + "\n", "k=[redacted private_key]\n"},
		{"several", "a@b.io 5555555555554444 x", "a•••@b.io [card ••••4444] x"},
		{"merged", "4111111111111111@example.com", "[card ••••1111]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Redact(tt.in); got != tt.want {
				t.Errorf("Redact(%q)\n got %q\nwant %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestRedactCleanDoesNotAllocate(t *testing.T) {
	line := strings.Repeat(`time=2024-06-11T10:15:30Z level=INFO msg="GET /v1/orders/ord_42" `+
		`status=200 bytes=5120 dur=1.25ms req=123e4567-e89b-12d3-a456-426614174000 `, 8)
	allocs := testing.AllocsPerRun(100, func() {
		if Redact(line) != line {
			t.Fatal("clean line changed")
		}
	})
	if allocs != 0 {
		t.Errorf("Redact of a clean line allocates %v times, want 0", allocs)
	}
}

func TestLastFour(t *testing.T) {
	tests := []struct{ in, want string }{
		{"4111 1111 1111 1234", "1234"},
		{"3782-822463-10005", "0005"},
		{"12", "12"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := lastFour(tt.in); got != tt.want {
			t.Errorf("lastFour(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
