package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
	"github.com/securecart/securecart/internal/store"
)

// noopSealer frames values as envelopes without encrypting them: the
// baseline that shows what sealing costs the store.
type noopSealer struct{}

func (noopSealer) frame(pt []byte) []byte {
	return envelope.Parts{Header: envelope.Header{Domain: envelope.CustomerPII, KeyID: 1},
		Ciphertext: append(slices.Clone(pt), make([]byte, envelope.TagSize)...)}.Bytes()
}

func (noopSealer) NewDataKey(context.Context, envelope.Domain) (keys.DataKey, error) {
	return keys.DataKey{}, nil
}
func (n noopSealer) SealWith(_ context.Context, _ keys.DataKey, _ envelope.Binding, pt []byte) ([]byte, error) {
	return n.frame(pt), nil
}
func (noopSealer) AssignStmt(keys.DataKey, string) sqldb.Stmt { return sqldb.Stmt{} }
func (noopSealer) Assigned(keys.DataKey, string)              {}
func (n noopSealer) SealFor(_ context.Context, _ envelope.Domain, _ string, _ envelope.Binding, pt []byte) ([]byte, error) {
	return n.frame(pt), nil
}
func (noopSealer) Open(_ context.Context, sealed []byte, _ envelope.Binding) ([]byte, error) {
	p, err := envelope.Split(sealed)
	if err != nil {
		return nil, err
	}
	return slices.Clone(p.Ciphertext[:len(p.Ciphertext)-envelope.TagSize]), nil
}
func (n noopSealer) OpenAll(ctx context.Context, sealed [][]byte, bs []envelope.Binding) ([][]byte, error) {
	out := make([][]byte, len(sealed))
	for i, v := range sealed {
		pt, err := n.Open(ctx, v, bs[i])
		if err != nil {
			return nil, err
		}
		out[i] = pt
	}
	return out, nil
}
func (noopSealer) Shred(context.Context, string) (int, error) { return 0, nil }
func (noopSealer) BlindToken(field string, v []byte) ([]byte, error) {
	h := sha256.Sum256(append([]byte(field), v...))
	t := make([]byte, 4, keys.BlindTokenSize)
	binary.BigEndian.PutUint32(t, 1)
	return append(t, h[:12]...), nil
}
func (n noopSealer) BlindTokens(field string, v []byte) ([][]byte, error) {
	t, err := n.BlindToken(field, v)
	return [][]byte{t}, err
}

// benchStore opens a store on eng, sealed for real or with noopSealer.
func benchStore(b *testing.B, eng sqldbtest.Engine, sealed bool) *store.Store {
	b.Helper()
	ctx := context.Background()
	h := eng.Open(b)
	if !sealed {
		s, err := store.Open(ctx, h.DB, noopSealer{})
		if err != nil {
			b.Fatal(err)
		}
		return s
	}
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: b.TempDir() + "/root.key"}, keys.Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ks.Close)
	s, err := store.Open(ctx, h.DB, ks)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchSeq atomic.Int64

func benchCustomer() store.NewCustomer {
	n := benchSeq.Add(1)
	return store.NewCustomer{
		Name:  "Bench Customer " + strconv.FormatInt(n, 10),
		Email: fmt.Sprintf("bench.%d.%d@example.com", n, rand.Int64()),
		Phone: "+33 1 23 45 67 89",
		Address: store.Address{Line1: "8 rue de Rivoli", City: "Paris", PostalCode: "75004",
			Country: "FR"},
	}
}

func forEachSealer(b *testing.B, fn func(b *testing.B, eng sqldbtest.Engine, sealed bool)) {
	for _, eng := range sqldbtest.Engines() {
		for _, sealed := range []bool{true, false} {
			name := eng.Name + "/sealed"
			if !sealed {
				name = eng.Name + "/noop"
			}
			b.Run(name, func(b *testing.B) { fn(b, eng, sealed) })
		}
	}
}

// BenchmarkCreateCustomer creates customers one at a time: 4 sealed fields,
// a blind-index token and a change record per durable commit.
func BenchmarkCreateCustomer(b *testing.B) {
	forEachSealer(b, func(b *testing.B, eng sqldbtest.Engine, sealed bool) {
		s := benchStore(b, eng, sealed)
		ctx := context.Background()
		b.ResetTimer()
		for b.Loop() {
			if _, err := s.CreateCustomer(ctx, benchCustomer()); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// BenchmarkGetCustomer reads a customer by id and opens its 4 fields.
func BenchmarkGetCustomer(b *testing.B) {
	forEachSealer(b, func(b *testing.B, eng sqldbtest.Engine, sealed bool) {
		s := benchStore(b, eng, sealed)
		ctx := context.Background()
		ids := seedCustomers(b, s, 1000)
		b.ResetTimer()
		i := 0
		for b.Loop() {
			if _, err := s.GetCustomer(ctx, ids[i%len(ids)]); err != nil {
				b.Fatal(err)
			}
			i++
		}
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	})
}

// seedCustomers creates n customers with 16 concurrent writers.
func seedCustomers(b *testing.B, s *store.Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	ids := make([]string, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				c, err := s.CreateCustomer(ctx, benchCustomer())
				if err != nil {
					b.Error(err)
					return
				}
				ids[i] = c.ID
			}
		}()
	}
	wg.Wait()
	if b.Failed() {
		b.FailNow()
	}
	return ids
}

// BenchmarkDurableCreates measures customers created per second on SQLite
// by 1 and by 16 concurrent writers; group commit lets the 16 share fsyncs.
func BenchmarkDurableCreates(b *testing.B) {
	for _, writers := range []int{1, 16} {
		b.Run(fmt.Sprintf("sqlite/writers-%d", writers), func(b *testing.B) {
			s := benchStore(b, sqldbtest.Engines()[0], true)
			ctx := context.Background()
			b.ResetTimer()
			var next atomic.Int64
			var wg sync.WaitGroup
			for range writers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for next.Add(1) <= int64(b.N) {
						if _, err := s.CreateCustomer(ctx, benchCustomer()); err != nil {
							b.Error(err)
							return
						}
					}
				}()
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
			if lite, ok := s.DB().(*sqlite.DB); ok {
				st := lite.Stats()
				b.ReportMetric(float64(st.Writes)/float64(st.Batches), "writes/fsync")
			}
		})
	}
}

// BenchmarkLookupByEmail looks customers up by email among
// SECURECART_BENCH_CUSTOMERS customers (default 10,000) on SQLite and
// reports the median and 99th percentile latency.
func BenchmarkLookupByEmail(b *testing.B) {
	n := 10_000
	if v, err := strconv.Atoi(os.Getenv("SECURECART_BENCH_CUSTOMERS")); err == nil && v > 0 {
		n = v
	}
	s := benchStore(b, sqldbtest.Engines()[0], true)
	ctx := context.Background()
	ids := seedCustomers(b, s, n)
	// Look up a sample of existing customers, chosen at random.
	emails := make([]string, 0, 1000)
	for len(emails) < cap(emails) {
		c, err := s.GetCustomer(ctx, ids[rand.IntN(len(ids))])
		if err != nil {
			b.Fatal(err)
		}
		emails = append(emails, c.Email)
	}
	lat := make([]time.Duration, 0, 1<<16)
	b.ResetTimer()
	i := 0
	for b.Loop() {
		t0 := time.Now()
		if _, err := s.FindCustomerByEmail(ctx, emails[i%len(emails)]); err != nil {
			b.Fatal(err)
		}
		if len(lat) < cap(lat) {
			lat = append(lat, time.Since(t0))
		}
		i++
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(n), "customers")
}
