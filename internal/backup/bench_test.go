package backup_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
	"github.com/securecart/securecart/internal/store"
)

// BenchmarkShipLag writes at a steady 500 creates a second (override with
// SECURECART_BENCH_LAG_RATE) for SECURECART_BENCH_LAG_SECONDS (default 10)
// while the shipper runs with its default one-second interval, and reports
// the time from each change's commit to the end of its segment's upload.
func BenchmarkShipLag(b *testing.B) {
	rate := envInt("SECURECART_BENCH_LAG_RATE", 500)
	secs := envInt("SECURECART_BENCH_LAG_SECONDS", 10)
	for b.Loop() {
		var mu sync.Mutex
		var lags []time.Duration
		e := newEnv(b, sqldbtest.Engines()[0], newLocal(b), backup.Options{
			Shipped: func(cs []store.Change, done time.Time) {
				mu.Lock()
				defer mu.Unlock()
				for _, c := range cs {
					lags = append(lags, done.Sub(c.At))
				}
			},
		})
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.sh.Run(ctx)
		}()
		written := paceWrites(b, e, rate, time.Duration(secs)*time.Second)
		time.Sleep(2 * time.Second)
		cancel()
		wg.Wait()

		mu.Lock()
		slices.Sort(lags)
		n := len(lags)
		if n == 0 {
			b.Fatal("nothing shipped")
		}
		b.ReportMetric(ms(lags[n/2]), "p50-lag-ms")
		b.ReportMetric(ms(lags[n*99/100]), "p99-lag-ms")
		b.ReportMetric(ms(lags[n-1]), "max-lag-ms")
		b.ReportMetric(float64(written)/float64(secs), "writes/s")
		mu.Unlock()
	}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// paceWrites creates customers at rate per second for d, from four
// writers, and returns how many it created.
func paceWrites(b *testing.B, e *env, rate int, d time.Duration) int {
	const writers = 4
	var total sync.WaitGroup
	counts := make([]int, writers)
	end := time.Now().Add(d)
	for w := range writers {
		total.Add(1)
		go func() {
			defer total.Done()
			interval := time.Duration(writers) * time.Second / time.Duration(rate)
			next := time.Now().Add(time.Duration(w) * interval / writers)
			for i := 0; time.Now().Before(end); i++ {
				time.Sleep(time.Until(next))
				next = next.Add(interval)
				_, err := e.st.CreateCustomer(e.ctx, store.NewCustomer{Name: "Lag", Phone: "1",
					Email:   fmt.Sprintf("w%d-%d@example.com", w, i),
					Address: store.Address{Line1: "1", City: "x", PostalCode: "1", Country: "FR"}})
				if err != nil {
					b.Error(err)
					return
				}
				counts[w]++
			}
		}()
	}
	total.Wait()
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}

// source is a large deployment built once per process for the snapshot
// and restore benchmarks.
type source struct {
	e      *env
	dbPath string
	dbSize int64
	rows   int64
	snap   backup.SnapshotInfo
}

var (
	sourceOnce sync.Once
	sourceDB   *source
	sourceErr  error
	sourceDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sourceDir != "" {
		os.RemoveAll(sourceDir)
	}
	os.Exit(code)
}

// benchSource returns a SQLite deployment of SECURECART_BENCH_RESTORE_ROWS
// customers (default 100,000), each about 380 bytes with four sealed
// fields, and one snapshot of it.
func benchSource(b *testing.B) *source {
	sourceOnce.Do(func() {
		sourceDB, sourceErr = buildSource(envInt("SECURECART_BENCH_RESTORE_ROWS", 100_000))
	})
	if sourceErr != nil {
		b.Fatal(sourceErr)
	}
	return sourceDB
}

func buildSource(n int) (*source, error) {
	dir, err := os.MkdirTemp("", "securecart-bench-")
	if err != nil {
		return nil, err
	}
	sourceDir = dir
	ctx := context.Background()
	path := filepath.Join(dir, "securecart.db")
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "root.key")
	ks, err := keys.Open(ctx, db, &keys.FileProvider{Path: root}, keys.Config{})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, db, ks)
	if err != nil {
		return nil, err
	}
	if err := fillCustomers(ctx, db, ks, n); err != nil {
		return nil, err
	}
	obj, err := objstore.NewLocal(filepath.Join(dir, "objects"))
	if err != nil {
		return nil, err
	}
	sh, err := backup.NewShipper(ctx, st, ks, obj, backup.Options{})
	if err != nil {
		return nil, err
	}
	if err := sh.SnapshotKeystore(ctx); err != nil {
		return nil, err
	}
	snap, err := sh.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	if err := db.Checkpoint(ctx); err != nil {
		return nil, err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	e := &env{ctx: ctx, root: root, ks: ks, st: st, obj: obj, sh: sh,
		h: &sqldbtest.Handle{DB: db, Path: path}}
	return &source{e: e, dbPath: path, dbSize: fi.Size(), rows: int64(n), snap: snap}, nil
}

// fillCustomers loads n customers straight through the store's Loader, as
// insert changes, each sealed with a data key of its own as in a live
// deployment, so the keystore a restore loads holds a key per customer.
func fillCustomers(ctx context.Context, db sqldb.DB, ks *keys.Keystore, n int) error {
	loader, err := store.NewLoader(ctx, db)
	if err != nil {
		return err
	}
	const batch = 10000
	for start := 0; start < n; start += batch {
		cs := make([]store.Change, 0, batch)
		dks := make([]keys.DataKey, 0, batch)
		for i := start; i < min(n, start+batch); i++ {
			dk, err := ks.NewDataKey(ctx, envelope.CustomerPII)
			if err != nil {
				return err
			}
			c, err := customerRow(ctx, ks, dk, i)
			if err != nil {
				return err
			}
			cs, dks = append(cs, c), append(dks, dk)
		}
		err := db.Write(ctx, func(tx sqldb.Tx) error {
			for i, dk := range dks {
				if err := ks.Assign(ctx, tx, dk, cs[i].Key); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := loader.Apply(ctx, cs); err != nil {
			return err
		}
	}
	return nil
}

func customerRow(ctx context.Context, ks *keys.Keystore, dk keys.DataKey, i int) (store.Change, error) {
	id := fmt.Sprintf("cus_%026d", i)
	seal := func(col, v string) ([]byte, error) {
		return ks.SealWith(ctx, dk, envelope.Binding{Table: "customers", Column: col, Row: id}, []byte(v))
	}
	fields := map[string]string{
		"name": fmt.Sprintf("Customer Number %d", i), "email": fmt.Sprintf("customer.%d@example.com", i),
		"phone": "+33 1 23 45 67 89", "address": `{"line1":"12 rue de Rivoli","city":"Paris","postal_code":"75001","country":"FR"}`,
	}
	row := map[string]any{"id": id, "email_bidx_version": 1, "created_at": 1764000000000000 + i,
		"last_activity": 1764000000000000 + i, "version": 1}
	for col, v := range fields {
		s, err := seal(col, v)
		if err != nil {
			return store.Change{}, err
		}
		row[col] = s
	}
	bidx := make([]byte, 16)
	copy(bidx, fmt.Sprintf("%016d", i))
	row["email_bidx"] = bidx
	b, err := json.Marshal(row)
	return store.Change{Pos: int64(i + 1), Table: "customers", Key: id, Op: "insert", After: b}, err
}

// BenchmarkRestore restores the benchmark deployment's snapshot into a new
// SQLite database (securecart) and, when the litestream binary is
// installed, times Litestream restoring the same database from a file
// replica (litestream), in the same run.
func BenchmarkRestore(b *testing.B) {
	src := benchSource(b)
	b.Run("securecart", func(b *testing.B) {
		for b.Loop() {
			dir := b.TempDir()
			db, err := sqlite.Open(src.e.ctx, filepath.Join(dir, "securecart.db"), sqlite.Options{})
			if err != nil {
				b.Fatal(err)
			}
			o := src.e.restoreOpts(db)
			t0 := time.Now()
			sum, err := backup.Restore(src.e.ctx, o)
			el := time.Since(t0)
			db.Close()
			if err != nil {
				b.Fatal(err)
			}
			if sum.Rows["customers"] != src.rows {
				b.Fatalf("restored %d customers, want %d", sum.Rows["customers"], src.rows)
			}
			b.ReportMetric(float64(src.rows)/el.Seconds(), "rows/s")
			b.ReportMetric(float64(src.rows), "rows")
		}
	})
	b.Run("litestream", func(b *testing.B) {
		script, err := filepath.Abs("../../tools/litestreambench/restore.sh")
		if err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			out, err := exec.Command(script, src.dbPath).Output()
			if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 2 {
				b.Skip("litestream not installed: go install github.com/benbjohnson/litestream/cmd/litestream@v0.5.18")
			}
			if err != nil {
				b.Fatalf("%s: %v", script, err)
			}
			f := strings.Fields(string(out))
			secs, err := strconv.ParseFloat(f[0], 64)
			if err != nil || len(f) != 2 {
				b.Fatalf("script printed %q", out)
			}
			b.ReportMetric(float64(src.rows)/secs, "rows/s")
			b.ReportMetric(float64(src.rows), "rows")
		}
	})
}

// BenchmarkSnapshot takes a snapshot of the benchmark deployment
// (securecart) and copies its database file with an fsync (filecopy), in
// the same run; both in MB of database file per second.
func BenchmarkSnapshot(b *testing.B) {
	src := benchSource(b)
	mb := float64(src.dbSize) / 1e6
	b.Run("securecart", func(b *testing.B) {
		for b.Loop() {
			t0 := time.Now()
			if _, err := src.e.sh.Snapshot(src.e.ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(mb/time.Since(t0).Seconds(), "MB/s")
			b.ReportMetric(mb, "MB")
		}
	})
	b.Run("filecopy", func(b *testing.B) {
		for b.Loop() {
			t0 := time.Now()
			if err := copyFile(src.dbPath, filepath.Join(b.TempDir(), "copy.db")); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(mb/time.Since(t0).Seconds(), "MB/s")
			b.ReportMetric(mb, "MB")
		}
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
