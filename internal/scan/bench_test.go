package scan

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

// logText returns about size bytes of log lines like SecureCart's own, one
// line in dirtyEvery carrying a card number, an email, a key or a token.
func logText(size, dirtyEvery int) string {
	r := rand.New(rand.NewPCG(1, 2))
	dirty := []string{
		"card 4111 1111 1111 1111 declined",
		"customer jane.doe@example.com updated",
		"phone +44 20 7946 0958",
		"key " + testKey,
		"Authorization: Bearer " + testJWT,
		"dsn postgres://app:hunter2@db/shop",
	}
	var b strings.Builder
	for n := 0; b.Len() < size; n++ {
		fmt.Fprintf(&b, `{"time":"2024-06-11T10:%02d:%02d.%06dZ","level":"INFO",`+
			`"msg":"request served","request_id":"%08x-%04x-4%03x-a%03x-%012x",`+
			`"route":"/v1/orders/{id}","order":"ord_%d","status":%d,"bytes":%d,"dur_ms":%.3f`,
			n/60%60, n%60, r.IntN(1e6), r.Uint32(), r.IntN(1<<16), r.IntN(1<<12),
			r.IntN(1<<12), r.Int64N(1<<48), r.IntN(1e9), 200+r.IntN(5), r.IntN(1e5),
			r.Float64()*100)
		if n%dirtyEvery == dirtyEvery-1 {
			fmt.Fprintf(&b, `,"note":%q`, dirty[n/dirtyEvery%len(dirty)])
		}
		b.WriteString("}\n")
	}
	return b.String()
}

// benchCases are 1 MiB of log lines: clean, with one dirty line in 50, and
// dirty throughout.
var benchCases = []struct {
	name       string
	dirtyEvery int
}{
	{"clean", 1 << 30},
	{"dirty1in50", 50},
	{"dirtyAll", 1},
}

func BenchmarkFind(b *testing.B) {
	for _, c := range benchCases {
		text := []byte(logText(1<<20, c.dirtyEvery))
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Find(text)
			}
		})
	}
}

func BenchmarkRedact(b *testing.B) {
	for _, c := range benchCases {
		text := logText(1<<20, c.dirtyEvery)
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(text)))
			for b.Loop() {
				Redact(text)
			}
		})
	}
}

// BenchmarkRedactLine is the cost the log handler pays per attribute.
func BenchmarkRedactLine(b *testing.B) {
	line := "GET /v1/customers/cus_01HZX4 served in 1.25ms for 10.0.0.7"
	b.SetBytes(int64(len(line)))
	for b.Loop() {
		Redact(line)
	}
}
