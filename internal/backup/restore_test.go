package backup_test

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

type reference struct {
	at     time.Time
	pos    int64
	tables map[string]store.TableDigest
}

// TestPointInTime runs a random workload, keeps the store's digest at 20
// random instants and restores to each instant, on each engine.
func TestPointInTime(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			e := newEnvClock(t, eng, newLocal(t), backup.Options{}, true)
			w := newWorkload(e, 7)
			rng := rand.New(rand.NewPCG(1, 2))
			for range 20 {
				w.step()
			}
			e.snapshot()
			const steps = 400
			takeAt := make(map[int]bool)
			for len(takeAt) < 20 {
				takeAt[rng.IntN(steps)] = true
			}
			var refs []reference
			for i := range steps {
				w.step()
				if rng.IntN(15) == 0 {
					e.ship()
				}
				if i == steps/2 {
					e.ship()
					e.snapshot()
				}
				if takeAt[i] {
					pos, d := e.digest()
					refs = append(refs, reference{at: e.now(), pos: pos, tables: d})
				}
			}
			e.ship()
			for i, ref := range refs {
				db, sum, err := e.restore(eng, ref.at, 0)
				if err != nil {
					t.Fatalf("restore %d to %s: %v", i, ref.at, err)
				}
				pos, got, err := store.Digest(e.ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if pos != ref.pos || sum.Pos != ref.pos {
					t.Fatalf("restore %d: position %d (summary %d), want %d", i, pos, sum.Pos, ref.pos)
				}
				for _, table := range store.BackupTables {
					if got[table] != ref.tables[table] {
						t.Errorf("restore %d: %s: %d rows, want %d (content differs: %v)", i, table,
							got[table].Rows, ref.tables[table].Rows, got[table].SHA256 != ref.tables[table].SHA256)
					}
				}
			}
		})
	}
}

// TestCrossEngine restores a SQLite deployment's backups into PostgreSQL
// and the reverse.
func TestCrossEngine(t *testing.T) {
	engines := sqldbtest.Engines()
	sqliteEng, pgEng := engines[0], engines[1]
	sqldbtest.PostgresDSN(t)
	for _, c := range []struct{ from, to sqldbtest.Engine }{{sqliteEng, pgEng}, {pgEng, sqliteEng}} {
		t.Run(c.from.Name+"-to-"+c.to.Name, func(t *testing.T) {
			e := newEnv(t, c.from, newLocal(t), backup.Options{})
			w := newWorkload(e, 11)
			for range 60 {
				w.step()
			}
			e.snapshot()
			for range 60 {
				w.step()
			}
			e.ship()
			wantPos, want := e.digest()
			db, sum, err := e.restore(c.to, time.Time{}, 0)
			if err != nil {
				t.Fatal(err)
			}
			pos, got, err := store.Digest(e.ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if pos != wantPos || !equalDigests(got, want) {
				t.Fatalf("restored %+v at %d, want %+v at %d", got, pos, want, wantPos)
			}
			// The restored database is a working store: its fields open.
			opened := openStore(t, e, db)
			if len(w.customers) > 0 {
				c0 := w.customers[0]
				got, err := opened.GetCustomer(e.ctx, c0.ID)
				if err != nil || got.Name != c0.Name || got.Email != c0.Email {
					t.Fatalf("restored customer %+v, %v; want %+v", got, err, c0)
				}
			}
			if sum.Rows["customers"] != want["customers"].Rows {
				t.Fatalf("summary rows %v", sum.Rows)
			}
		})
	}
}

func equalDigests(a, b map[string]store.TableDigest) bool {
	for _, t := range store.BackupTables {
		if a[t] != b[t] {
			return false
		}
	}
	return true
}

// openStore opens a store on a restored database with the deployment's
// root key.
func openStore(t *testing.T, e *env, db sqldb.DB) *store.Store {
	t.Helper()
	st, err := store.Open(e.ctx, db, openKeys(t, e, db))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func openKeys(t *testing.T, e *env, db sqldb.DB) *keys.Keystore {
	t.Helper()
	ks, err := keys.Open(e.ctx, db, &keys.FileProvider{Path: e.root}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	return ks
}

// TestCryptoShredding shreds a customer after a backup was taken: a restore
// of that backup holds the customer's row, but its fields do not open.
func TestCryptoShredding(t *testing.T) {
	e := newEnv(t, sqldbtest.Engines()[0], newLocal(t), backup.Options{})
	w := newWorkload(e, 3)
	for range 30 {
		w.step()
	}
	victim, other := w.customers[0], w.customers[len(w.customers)-1]
	e.snapshot()
	e.ship()
	before := time.Now().UTC()
	time.Sleep(5 * time.Millisecond)

	if err := e.st.ShredCustomer(e.ctx, victim.ID); err != nil {
		t.Fatal(err)
	}
	e.ship()
	if err := e.sh.SnapshotKeystore(e.ctx); err != nil {
		t.Fatal(err)
	}

	db, _, err := e.restore(sqldbtest.Engines()[0], before, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The row is back, sealed; its key is not.
	var sealed []byte
	err = db.Read(e.ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(e.ctx, "SELECT name FROM customers WHERE id = ?", victim.ID).Scan(&sealed)
	})
	if err != nil {
		t.Fatalf("the restore to before the shredding lost the customer's row: %v", err)
	}
	st := openStore(t, e, db)
	ks := openKeys(t, e, db)
	b := envelope.Binding{Table: "customers", Column: "name", Row: victim.ID}
	if _, err := ks.Open(e.ctx, sealed, b); !errors.Is(err, keys.ErrKeyDestroyed) {
		t.Fatalf("open the shredded customer's name from the restore: %v, want ErrKeyDestroyed", err)
	}
	if _, err := st.GetCustomer(e.ctx, victim.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("get the shredded customer from the restore: %v", err)
	}
	if got, err := st.GetCustomer(e.ctx, other.ID); err != nil || got.Name != other.Name {
		t.Fatalf("another customer: %+v, %v", got, err)
	}
}

// TestRefusesDamagedObjects flips a byte, deletes a segment and plants a
// segment of another deployment: each restore stops and names the object.
func TestRefusesDamagedObjects(t *testing.T) {
	eng := sqldbtest.Engines()[0]
	newPair := func(t *testing.T) (*env, []backup.SegmentInfo) {
		e := newEnv(t, eng, newLocal(t), backup.Options{})
		w := newWorkload(e, 5)
		e.snapshot()
		for range 4 {
			for range 10 {
				w.step()
			}
			e.ship()
		}
		cat, err := backup.ReadCatalog(e.ctx, e.obj, e.sh.Deployment())
		if err != nil {
			t.Fatal(err)
		}
		if len(cat.Segments) != 4 {
			t.Fatalf("%d segments", len(cat.Segments))
		}
		return e, cat.Segments
	}
	objKey := func(e *env, name string) string { return e.sh.Deployment() + "/" + name }
	expect := func(t *testing.T, e *env, name string, want error) {
		t.Helper()
		_, _, err := e.restore(eng, time.Time{}, 0)
		var se *backup.SegmentError
		if !errors.As(err, &se) || !errors.Is(err, want) {
			t.Fatalf("restore: %v, want a SegmentError wrapping %v", err, want)
		}
		if !strings.Contains(err.Error(), name) {
			t.Fatalf("error %q does not name %s", err, name)
		}
	}

	t.Run("flipped byte on disk", func(t *testing.T) {
		e, segs := newPair(t)
		name := segs[1].Name
		b, _, err := e.obj.Get(e.ctx, objstore.Backups, objKey(e, name))
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)/2] ^= 0x01
		// Rewrite with a matching checksum, so only the seal can catch it.
		if _, err := e.obj.Put(e.ctx, objstore.Backups, objKey(e, name), b, objstore.Standard); err != nil {
			t.Fatal(err)
		}
		expect(t, e, name, backup.ErrCorrupt)
	})
	t.Run("deleted segment", func(t *testing.T) {
		e, segs := newPair(t)
		if err := e.obj.Delete(e.ctx, objstore.Backups, objKey(e, segs[2].Name)); err != nil {
			t.Fatal(err)
		}
		expect(t, e, strings.SplitN(segs[2].Name, "-", 2)[0], backup.ErrMissing)
	})
	t.Run("foreign segment", func(t *testing.T) {
		e, segs := newPair(t)
		f, fsegs := newPair(t)
		b, _, err := f.obj.Get(f.ctx, objstore.Backups, objKey(f, fsegs[1].Name))
		if err != nil {
			t.Fatal(err)
		}
		name := segs[1].Name
		if _, err := e.obj.Put(e.ctx, objstore.Backups, objKey(e, name), b, objstore.Standard); err != nil {
			t.Fatal(err)
		}
		expect(t, e, name, backup.ErrCorrupt)
	})
	t.Run("moved segment", func(t *testing.T) {
		e, segs := newPair(t)
		b, _, err := e.obj.Get(e.ctx, objstore.Backups, objKey(e, segs[3].Name))
		if err != nil {
			t.Fatal(err)
		}
		name := segs[2].Name
		if _, err := e.obj.Put(e.ctx, objstore.Backups, objKey(e, name), b, objstore.Standard); err != nil {
			t.Fatal(err)
		}
		expect(t, e, name, backup.ErrCorrupt)
	})
}

// TestRestoreRefusesNonEmptyTarget keeps a restore from overwriting data.
func TestRestoreRefusesNonEmptyTarget(t *testing.T) {
	eng := sqldbtest.Engines()[0]
	e := newEnv(t, eng, newLocal(t), backup.Options{})
	w := newWorkload(e, 9)
	for range 5 {
		w.step()
	}
	e.snapshot()
	o := e.restoreOpts(e.h.DB)
	if _, err := backup.Restore(e.ctx, o); !errors.Is(err, backup.ErrTargetExists) {
		t.Fatalf("restore into the live database: %v", err)
	}
}

// TestVerify restores the latest point into a scratch database and
// compares it with the live store.
func TestVerify(t *testing.T) {
	eng := sqldbtest.Engines()[0]
	e := newEnv(t, eng, newLocal(t), backup.Options{})
	w := newWorkload(e, 13)
	for range 20 {
		w.step()
	}
	e.snapshot()
	for range 30 {
		w.step()
	}
	e.ship()
	res, err := backup.Verify(e.ctx, e.h.DB, e.restoreOpts(eng.Open(t).DB), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK || len(res.Tables) != len(store.BackupTables) {
		t.Fatalf("verify: %+v", res)
	}
	w.step()
	if _, err := backup.Verify(e.ctx, e.h.DB, e.restoreOpts(eng.Open(t).DB), 300*time.Millisecond); !errors.Is(err, backup.ErrBehind) {
		t.Fatalf("verify with an unshipped change: %v", err)
	}
}
