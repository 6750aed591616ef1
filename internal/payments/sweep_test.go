package payments_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// trail keeps the records appended to it, or refuses them all.
type trail struct {
	mu      sync.Mutex
	records []audit.Record
	refuse  bool
}

func (t *trail) Append(_ context.Context, r *audit.Record) (uint64, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refuse {
		return 0, errors.New("the trail is full")
	}
	t.records = append(t.records, *r)
	return uint64(len(t.records)), nil
}

func (t *trail) snapshot() []audit.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]audit.Record(nil), t.records...)
}

func TestSweep(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			v, s := newVault(t, eng)
			now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
			clock := func() time.Time { return now }
			v.SetClock(clock)
			s.SetClock(clock)
			card := payments.Card{PAN: "4111111111111111", ExpMonth: 12, ExpYear: 2030}

			keep, err := v.Tokenize(ctx, "prn_app", card, payments.Options{})
			if err != nil {
				t.Fatal(err)
			}
			short, err := v.Tokenize(ctx, "prn_app", card, payments.Options{TTL: time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			once, err := v.Tokenize(ctx, "prn_app", card, payments.Options{SingleUse: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := v.Detokenize(ctx, once.Token, "capture"); err != nil {
				t.Fatal(err)
			}
			now = now.Add(time.Minute)

			// A sweep that cannot be recorded deletes nothing.
			refusing := &trail{refuse: true}
			if n, err := v.Sweep(ctx, refusing); err == nil || n != 0 {
				t.Fatalf("a sweep with the trail refusing: %d, %v", n, err)
			}
			if n, err := s.CardsByFingerprint(ctx, keep.Fingerprint); err != nil || n != 3 {
				t.Fatalf("tokens kept after an unrecorded sweep: %d, %v; want all 3", n, err)
			}

			tr := &trail{}
			if n, err := v.Sweep(ctx, tr); err != nil || n != 2 {
				t.Fatalf("sweep: %d, %v; want the expired and the used-up token", n, err)
			}
			if n, err := s.CardsByFingerprint(ctx, keep.Fingerprint); err != nil || n != 1 {
				t.Fatalf("tokens kept after the sweep: %d, %v", n, err)
			}
			for _, tok := range []string{short.Token, once.Token} {
				if err := v.Delete(ctx, tok); !errors.Is(err, store.ErrNotFound) {
					t.Errorf("a swept token: delete says %v, want ErrNotFound", err)
				}
			}
			if _, err := v.Detokenize(ctx, keep.Token, "capture"); err != nil {
				t.Fatalf("the live token after the sweep: %v", err)
			}

			recs := tr.snapshot()
			if len(recs) != 2 {
				t.Fatalf("%d audit records, want a request and its outcome", len(recs))
			}
			req, out := recs[0], recs[1]
			if req.Phase != audit.PhaseRequest || out.Phase != audit.PhaseOutcome || out.RequestSeq != 1 {
				t.Fatalf("records %+v then %+v", req, out)
			}
			for _, r := range recs {
				if r.Action != payments.ActionSweep || r.Principal.ID != audit.System.ID ||
					r.Decision.Effect != audit.EffectNone || r.Resource.ID != "payments" {
					t.Errorf("sweep recorded as %+v", r)
				}
			}
			if out.Outcome.Status != audit.StatusDone {
				t.Errorf("outcome %+v", out.Outcome)
			}
		})
	}
}

func TestRunSweeper(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	v, s := newVault(t, sqldbtest.Engines()[0])
	now := time.Now()
	clock := func() time.Time { return now }
	v.SetClock(clock)
	s.SetClock(clock)
	tok, err := v.Tokenize(ctx, "prn_app", payments.Card{PAN: "5555555555554444", ExpMonth: 12, ExpYear: 2030},
		payments.Options{TTL: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)

	tr := &trail{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		v.RunSweeper(ctx, tr, 10*time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)))
	}()
	// It sweeps at start and then on every tick.
	deadline := time.Now().Add(10 * time.Second)
	for len(tr.snapshot()) < 6 {
		if time.Now().After(deadline) {
			t.Fatalf("%d records after 10s, want three sweeps", len(tr.snapshot()))
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if n, err := s.CardsByFingerprint(context.Background(), tok.Fingerprint); err != nil || n != 0 {
		t.Fatalf("the expired token after the sweeper ran: %d, %v", n, err)
	}
}
