package identity

import (
	"context"
	"testing"
	"time"

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
// with -cpu 1: the hash uses one thread. cpu-ms/attempt is the CPU time the
// process spent per attempt, and attempts/s what one core sustains at that
// cost; ms/attempt is the wall clock, which other work on the machine
// inflates.
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
			cpu0 := cpuTime()
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
			reportAttempts(b, cpuTime()-cpu0)
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
	cpu0 := cpuTime()
	for b.Loop() {
		verifyPassword("a wrong guess at it", h)
	}
	reportAttempts(b, cpuTime()-cpu0)
}

// reportAttempts reports wall and CPU milliseconds per attempt, and the
// attempts per second one core sustains at that CPU cost.
func reportAttempts(b *testing.B, cpu time.Duration) {
	ms := float64(b.Elapsed().Microseconds()) / 1000 / float64(b.N)
	b.ReportMetric(ms, "ms/attempt")
	if cpu > 0 {
		cpuMS := float64(cpu.Microseconds()) / 1000 / float64(b.N)
		b.ReportMetric(cpuMS, "cpu-ms/attempt")
		b.ReportMetric(1000/cpuMS, "attempts/s")
	}
}
