package identity

import (
	"context"
	"testing"

	"github.com/pquerna/otp/totp"

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

// BenchmarkSignIn measures a successful sign-in with the shipped Argon2id
// cost: read, password hash, TOTP check, and the session written. Run it
// with -cpu 1: the hash uses one thread, so ms/attempt is what one core
// spends, and attempts/s what one core sustains.
func BenchmarkSignIn(b *testing.B) {
	for _, e := range sqldbtest.Engines() {
		b.Run(e.Name, func(b *testing.B) {
			d, clk := openDir(b, e.Open(b))
			d.SetPasswordCost(DefaultArgon2)
			ctx := context.Background()
			p := mustPrincipal(b, d, "bench", KindPerson, RoleDBA)
			if err := d.SetPassword(ctx, p.ID, "violet-harbour-lantern-47"); err != nil {
				b.Fatal(err)
			}
			en, err := d.BeginTOTP(ctx, p.ID)
			if err != nil {
				b.Fatal(err)
			}
			c, _ := totp.GenerateCode(en.Secret, clk.Now())
			if _, err := d.ConfirmTOTP(ctx, p.ID, c); err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				b.StopTimer()
				clk.Advance(totpPeriod)
				c, _ := totp.GenerateCode(en.Secret, clk.Now())
				b.StartTimer()
				_, _, err := d.SignIn(ctx, SignIn{Name: "bench", Password: "violet-harbour-lantern-47", Code: c})
				if err != nil {
					b.Fatal(err)
				}
			}
			ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
			b.ReportMetric(ms, "ms/attempt")
			b.ReportMetric(1000/ms, "attempts/s")
		})
	}
}

// BenchmarkPasswordHash measures Argon2id alone at the shipped cost: what
// a guess costs someone who holds a stored hash.
func BenchmarkPasswordHash(b *testing.B) {
	h, err := hashPassword("violet-harbour-lantern-47", DefaultArgon2)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		verifyPassword("a wrong guess at it", h)
	}
	ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(ms, "ms/attempt")
	b.ReportMetric(1000/ms, "attempts/s")
}
