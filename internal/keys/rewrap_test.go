package keys

import (
	"context"
	"errors"
	"strconv"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
)

// TestRewrapResumes interrupts a rewrap after its first batch and runs it
// again: the second run moves only what the first did not, every key ends
// under the new version, the old version can be destroyed, and what was
// sealed before opens throughout.
func TestRewrapResumes(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		pii := envelope.CustomerPII
		ks := e.open(Config{PoolSize: 4})
		v, _ := addOwner(t, ks, e.h.DB, pii, "first")
		seedOwners(t, ks, pii, RewrapBatch+500)
		settle(ks)
		if _, err := ks.Rotate(ctx, pii); err != nil {
			t.Fatal(err)
		}
		total := keyInfo(t, ks, pii, 1).DataKeys
		if total <= RewrapBatch {
			t.Fatalf("%d keys under version 1: fewer than two batches", total)
		}

		stop, cancel := context.WithCancel(ctx)
		first, err := ks.Rewrap(stop, pii, func(done, _ int64) { cancel() })
		cancel()
		if !errors.Is(err, context.Canceled) || first <= 0 || first >= total {
			t.Fatalf("interrupted rewrap moved %d of %d: %v", first, total, err)
		}
		if left := keyInfo(t, ks, pii, 1).DataKeys; left != total-first {
			t.Fatalf("after the interruption %d keys under version 1, want %d", left, total-first)
		}
		v.check(t, ks)

		second, err := ks.Rewrap(ctx, pii, nil)
		if err != nil || second != total-first {
			t.Fatalf("resumed rewrap moved %d, %v; want %d", second, err, total-first)
		}
		if left := keyInfo(t, ks, pii, 1).DataKeys; left != 0 {
			t.Fatalf("%d keys still under version 1", left)
		}
		if again, err := ks.Rewrap(ctx, pii, nil); err != nil || again != 0 {
			t.Fatalf("a third rewrap moved %d, %v", again, err)
		}
		if err := ks.Destroy(ctx, pii, 1); err != nil {
			t.Fatalf("destroy version 1 after the rewrap: %v", err)
		}
		v.check(t, ks)
		v.check(t, e.reopen(Config{}))
	})
}

// seedOwners gives n owners a data key each under d's active version, in
// large batches.
func seedOwners(t *testing.T, ks *Keystore, d Domain, n int) {
	t.Helper()
	kk, err := ks.active(d)
	if err != nil {
		t.Fatal(err)
	}
	for done := 0; done < n; {
		batch := min(2000, n-done)
		rows := make([]dataKeyRow, 0, batch)
		for j := range batch {
			dk, w, err := ks.generate(d, kk)
			if err != nil {
				t.Fatal(err)
			}
			rows = append(rows, dataKeyRow{id: dk.id, owner: "seeded-" + strconv.Itoa(done+j), wrapped: w})
		}
		if err := ks.insertDataKeys(t.Context(), d, kk.version, rows, initialReserve); err != nil {
			t.Fatal(err)
		}
		done += batch
	}
}
