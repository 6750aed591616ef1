package identity

import (
	"context"
	"testing"

	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// BenchmarkAuthenticate measures a successful authentication, the path
// every API request takes; last use is written once, then skipped.
func BenchmarkAuthenticate(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			d, _ := openDir(b, e.Open(b))
			p := mustPrincipal(b, d, "bench", KindService, RoleAppService)
			k, _ := mustKey(b, d, p.ID, 0)
			presented := k.Reveal()
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := d.Authenticate(ctx, presented); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
