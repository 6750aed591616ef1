package logging

import (
	"context"
	"io"
	"log/slog"
	"testing"
)

// BenchmarkHandler logs a typical request record through the whole chain,
// to a discarded writer and a ring.
func BenchmarkHandler(b *testing.B) {
	log := slog.New(NewHandler(io.Discard, NewRing(1000), nil)).With(KeySubsystem, "api")
	ctx := WithRequestID(context.Background(), "01HZX4Q8M3")
	b.ReportAllocs()
	for b.Loop() {
		log.InfoContext(ctx, "request served", KeyMethod, "GET", KeyRoute, "/v1/customers/{id}",
			KeyStatus, 200, KeyPrincipal, "prn_7f3k2", "email", "jane.doe@example.com")
	}
}
