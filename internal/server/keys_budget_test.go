package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
)

// batchedKeys moves one data key per batch, as the keystore does per
// RewrapBatch, and stops between batches when its context ends.
type batchedKeys struct {
	left  int64
	clock *time.Time
}

func (k *batchedKeys) List(context.Context) ([]keys.KeyInfo, error) {
	return []keys.KeyInfo{
		{Domain: envelope.CustomerPII, Version: 1, State: keys.DecryptOnly, DataKeys: k.left},
		{Domain: envelope.CustomerPII, Version: 2, State: keys.Active},
	}, nil
}

func (k *batchedKeys) Rotate(context.Context, keys.Domain) (uint32, error) { return 2, nil }

func (k *batchedKeys) Destroy(context.Context, keys.Domain, uint32) error { return nil }

func (k *batchedKeys) Rewrap(ctx context.Context, _ keys.Domain, progress func(done, total int64)) (int64, error) {
	total := k.left
	var done int64
	for k.left > 0 {
		if err := ctx.Err(); err != nil {
			return done, fmt.Errorf("rewrap: %w", err)
		}
		k.left--
		done++
		*k.clock = k.clock.Add(time.Second)
		progress(done, total)
	}
	return done, nil
}

// TestRewrapStopsAtItsBudget: one request moves batches for its budget
// and says how many are left; the next ones go on until done.
func TestRewrapStopsAtItsBudget(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ks := &batchedKeys{left: 10, clock: &now}
	a := New(Deps{Keys: ks, Now: func() time.Time { return now }})

	var calls []RewrapView
	for len(calls) < 10 {
		out, err := a.rewrap(context.Background(), envelope.CustomerPII, 3*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		calls = append(calls, out)
		if out.Done {
			break
		}
	}
	want := []RewrapView{
		{Domain: "customer-pii", Rewrapped: 3, Remaining: 7},
		{Domain: "customer-pii", Rewrapped: 3, Remaining: 4},
		{Domain: "customer-pii", Rewrapped: 3, Remaining: 1},
		{Domain: "customer-pii", Rewrapped: 1, Remaining: 0, Done: true},
	}
	if fmt.Sprint(calls) != fmt.Sprint(want) {
		t.Fatalf("rewrap calls %+v, want %+v", calls, want)
	}

	// A caller that goes away is an error, not a partial answer.
	ks.left = 5
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := a.rewrap(ctx, envelope.CustomerPII, time.Hour); err == nil {
		t.Fatal("a cancelled rewrap answered as if it had stopped at its budget")
	}
}
