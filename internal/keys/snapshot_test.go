package keys

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func snapshot(t *testing.T, ks *Keystore) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := ks.Snapshot(t.Context(), &buf); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// restore loads snap into a fresh database of e's engine and opens a
// keystore there with a copy of e's root key file.
func restore(t *testing.T, e *env, snap []byte) (*Keystore, *sqldbtest.Handle) {
	t.Helper()
	h := e.engine.Open(t)
	if err := RestoreSnapshot(t.Context(), h.DB, bytes.NewReader(snap)); err != nil {
		t.Fatalf("restore: %v", err)
	}
	key, err := os.ReadFile(e.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "root.key")
	if err := os.WriteFile(path, key, 0o600); err != nil {
		t.Fatal(err)
	}
	return openKeystore(t, h.DB, &FileProvider{Path: path}, Config{}), h
}

func dataKeyWrapped(t *testing.T, db sqldb.DB, id uint64) []byte {
	t.Helper()
	var w []byte
	err := db.Read(t.Context(), func(tx sqldb.Tx) error {
		return tx.QueryRow(t.Context(), "SELECT wrapped FROM ks_data_keys WHERE id = ?", int64(id)).Scan(&w)
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestSnapshotRestore(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{PoolSize: 4})
		a, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "a")
		if _, err := ks.Rotate(ctx, envelope.CustomerPII); err != nil {
			t.Fatal(err)
		}
		b, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "b")
		notes, _ := addOwner(t, ks, e.h.DB, envelope.Orders, "b")
		gone, goneKey := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "gone")
		goneWrapped := base64.StdEncoding.EncodeToString(dataKeyWrapped(t, e.h.DB, goneKey.ID()))
		token, _ := ks.BlindToken("email", []byte("a@example.com"))
		settle(ks)

		before := snapshot(t, ks)
		if !strings.Contains(string(before), goneWrapped) {
			t.Fatal("setup: the snapshot before the shred lacks the owner's wrapped key")
		}
		if _, err := ks.Shred(ctx, "gone"); err != nil {
			t.Fatal(err)
		}
		after := snapshot(t, ks)
		if strings.Contains(string(after), goneWrapped) {
			t.Fatal("a snapshot taken after the shred holds the shredded key")
		}

		restored, _ := restore(t, e, after)
		for _, v := range []sealed{a, b, notes} {
			v.check(t, restored)
		}
		if _, err := restored.Open(ctx, gone.ct, gone.b); !errors.Is(err, ErrKeyDestroyed) {
			t.Fatalf("shredded owner from the restored keystore: %v, want ErrKeyDestroyed", err)
		}
		if av, _ := restored.ActiveVersion(envelope.CustomerPII); av != 2 {
			t.Fatalf("restored active version %d, want 2", av)
		}
		if got, _ := restored.BlindToken("email", []byte("a@example.com")); !bytes.Equal(got, token) {
			t.Fatal("the restored keystore gives other blind-index tokens")
		}
		sealFor(t, restored, envelope.CustomerPII, "a", "phone").check(t, restored)

		// A snapshot of the restored keystore is the same snapshot.
		restored2, _ := restore(t, e, after)
		if again := snapshot(t, restored2); !bytes.Equal(again, after) {
			t.Fatalf("snapshot of the restored keystore differs:\n%s\nwant\n%s", again, after)
		}

		// From the older snapshot the owner is still readable: the
		// shred reaches a keystore backup at its next snapshot.
		old, _ := restore(t, e, before)
		gone.check(t, old)
	})
}

func TestSnapshotHoldsNoKeyMaterial(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		addOwner(t, ks, e.h.DB, envelope.CustomerPII, "a")
		keys := [][]byte{ks.Root().s.b[:]}
		for _, d := range envelope.Domains {
			kk, err := ks.active(d)
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, kk.material.b[:])
		}
		assertNoLeak(t, "the snapshot", string(snapshot(t, ks)), keys...)
	})
}

func TestRestoreSnapshotNeedsTheRootKey(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		snap := snapshot(t, ks)
		h := e.engine.Open(t)
		if err := RestoreSnapshot(t.Context(), h.DB, bytes.NewReader(snap)); err != nil {
			t.Fatal(err)
		}
		p := &FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}
		_, err := Open(t.Context(), h.DB, p, Config{})
		hinted(t, err)
		if _, err := os.Stat(p.Path); !errors.Is(err, os.ErrNotExist) {
			t.Fatal("opening a restored keystore without its root key created a new one")
		}
	})
}

func TestRestoreSnapshotRefuses(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{})
		addOwner(t, ks, e.h.DB, envelope.CustomerPII, "a")
		good := snapshot(t, ks)
		header, rest, _ := bytes.Cut(good, []byte("\n"))

		// A non-empty keystore is never overwritten.
		listBefore := mustList(t, ks)
		if err := RestoreSnapshot(ctx, e.h.DB, bytes.NewReader(good)); err == nil {
			t.Fatal("restored over a keystore with keys")
		}
		if listAfter := mustList(t, ks); len(listAfter) != len(listBefore) {
			t.Fatal("a refused restore changed the keystore")
		}

		lines := func(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }
		cases := []struct {
			name string
			snap []byte
		}{
			{"empty", nil},
			{"garbage", []byte("garbage\x00\xff\n")},
			{"only a newline", []byte("\n")},
			{"another format", lines(`{"format":"securecart-keystore-snapshot-v2","root_id":"x"}`)},
			{"header with an unknown field", lines(`{"format":"` + snapshotFormat + `","root_id":"x","extra":1}`)},
			{"header with trailing data", lines(`{"format":"` + snapshotFormat + `","root_id":"x"} {}`)},
			{"unknown line type", lines(string(header), `{"t":"secret"}`)},
			{"line with an unknown field", lines(string(header), `{"t":"meta","name":"x","key":"AAAA"}`)},
			{"line not JSON", append(bytes.Clone(good), "not json\n"...)},
			{"line too long", append(lines(string(header)), bytes.Repeat([]byte("a"), maxSnapshotLine+1)...)},
			{"no header", rest},
			{"duplicate key version", append(bytes.Clone(good), rest...)},
		}
		for _, tc := range cases {
			h := e.engine.Open(t)
			if err := RestoreSnapshot(ctx, h.DB, bytes.NewReader(tc.snap)); err == nil {
				t.Errorf("%s: restored", tc.name)
				continue
			}
			var n int64
			err := h.Read(ctx, func(tx sqldb.Tx) error {
				return tx.QueryRow(ctx, "SELECT (SELECT COUNT(*) FROM ks_keks) + (SELECT COUNT(*) FROM ks_data_keys)"+
					" + (SELECT COUNT(*) FROM ks_meta)").Scan(&n)
			})
			if err != nil || n != 0 {
				t.Errorf("%s: a refused restore left %d rows (%v)", tc.name, n, err)
			}
		}
	})
}

// TestSnapshotRestoreMany restores a keystore of thousands of data keys,
// more than one decoding chunk per goroutine and one insert statement
// hold, and checks that every key and both data-key indexes come back.
func TestSnapshotRestoreMany(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := e.open(Config{})
		var first sealed
		dks := make([]DataKey, 2500)
		for i := range dks {
			var err error
			if dks[i], err = ks.NewDataKey(ctx, envelope.CustomerPII); err != nil {
				t.Fatal(err)
			}
		}
		err := e.h.DB.Write(ctx, func(tx sqldb.Tx) error {
			for i, dk := range dks {
				owner := fmt.Sprintf("cus_%d", i)
				if err := ks.Assign(ctx, tx, dk, owner); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		first = sealed{b: bind("cus_1234", "email"), pt: []byte("x@example.com")}
		if first.ct, err = ks.SealWith(ctx, dks[1234], first.b, first.pt); err != nil {
			t.Fatal(err)
		}
		settle(ks)
		snap := snapshot(t, ks)
		restored, h := restore(t, e, snap)
		if again := snapshot(t, restored); !bytes.Equal(again, snap) {
			t.Fatal("the restored keystore's snapshot differs from the one it was restored from")
		}
		first.check(t, restored)
		q := "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND name IN ('ks_data_keys_owner', 'ks_data_keys_kek')"
		if e.engine.Name == sqldb.Postgres {
			q = "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema()" +
				" AND indexname IN ('ks_data_keys_owner', 'ks_data_keys_kek')"
		}
		var n int64
		if err := h.DB.Read(ctx, func(tx sqldb.Tx) error { return tx.QueryRow(ctx, q).Scan(&n) }); err != nil {
			t.Fatal(err)
		}
		if n != 2 {
			t.Fatalf("%d of the 2 data-key indexes after the restore", n)
		}
	})
}
