package store_test

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

func TestIdempotencyKeyLife(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnv(t, eng, keys.Config{})
			now := time.Now()
			e.s.SetClock(func() time.Time { return now })
			first, other := sha256.Sum256([]byte("first")), sha256.Sum256([]byte("other"))

			if prev, err := e.s.ClaimIdempotency(e.ctx, "prn_a", "k1", first[:]); err != nil || prev != "" {
				t.Fatalf("claim: %q %v", prev, err)
			}
			if _, err := e.s.ClaimIdempotency(e.ctx, "prn_a", "k1", first[:]); !errors.Is(err, store.ErrIdemInProgress) {
				t.Fatalf("claim while pending: %v", err)
			}
			if err := e.s.FinishIdempotency(e.ctx, "prn_a", "k1", "res_1"); err != nil {
				t.Fatal(err)
			}
			now = now.Add(store.IdemKeyTTL - time.Second)
			if prev, err := e.s.ClaimIdempotency(e.ctx, "prn_a", "k1", first[:]); err != nil || prev != "res_1" {
				t.Fatalf("retry within the lifetime: %q %v", prev, err)
			}
			if _, err := e.s.ClaimIdempotency(e.ctx, "prn_a", "k1", other[:]); !errors.Is(err, store.ErrIdemMismatch) {
				t.Fatalf("another request within the lifetime: %v", err)
			}
			// Another principal's key of the same name is its own.
			if prev, err := e.s.ClaimIdempotency(e.ctx, "prn_b", "k1", other[:]); err != nil || prev != "" {
				t.Fatalf("another principal: %q %v", prev, err)
			}

			now = now.Add(2 * time.Second)
			if prev, err := e.s.ClaimIdempotency(e.ctx, "prn_a", "k1", other[:]); err != nil || prev != "" {
				t.Fatalf("the expired key was not forgotten: %q %v", prev, err)
			}
			// prn_b's key, a second younger, is still remembered.
			if _, err := e.s.ClaimIdempotency(e.ctx, "prn_b", "k1", other[:]); !errors.Is(err, store.ErrIdemInProgress) {
				t.Fatalf("a live key was dropped: %v", err)
			}
		})
	}
}
