package keys

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func benchKeystore(b *testing.B, h *sqldbtest.Handle) *Keystore {
	b.Helper()
	ks, err := Open(context.Background(), h.DB, &FileProvider{Path: filepath.Join(b.TempDir(), "root.key")}, Config{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(ks.Close)
	return ks
}

// benchOwner creates an owner whose data key is cached, as it is for a
// customer being served.
func benchOwner(b *testing.B, ks *Keystore, db sqldb.DB) string {
	b.Helper()
	ctx := context.Background()
	key, err := ks.NewDataKey(ctx, envelope.CustomerPII)
	if err != nil {
		b.Fatal(err)
	}
	owner := "cus_bench"
	if err := db.Write(ctx, func(tx sqldb.Tx) error { return ks.Assign(ctx, tx, key, owner) }); err != nil {
		b.Fatal(err)
	}
	ks.Assigned(key, owner)
	return owner
}

var benchBinding = envelope.Binding{Table: "customers", Column: "email", Row: "cus_abcdefghijklmnopqrstuvwxyz"}

// BenchmarkFieldSeal64 seals a 64-byte field with a customer's cached data
// key through the keystore, as the store does.
func BenchmarkFieldSeal64(b *testing.B) {
	h := sqldbtest.OpenSQLite(b)
	ks := benchKeystore(b, h)
	owner := benchOwner(b, ks, h.DB)
	ctx := context.Background()
	pt := bytes.Repeat([]byte("p"), 64)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.SealFor(ctx, envelope.CustomerPII, owner, benchBinding, pt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFieldOpen64 opens a 64-byte field with a cached data key.
func BenchmarkFieldOpen64(b *testing.B) {
	h := sqldbtest.OpenSQLite(b)
	ks := benchKeystore(b, h)
	owner := benchOwner(b, ks, h.DB)
	ctx := context.Background()
	sealed, err := ks.SealFor(ctx, envelope.CustomerPII, owner, benchBinding, bytes.Repeat([]byte("p"), 64))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ks.Open(ctx, sealed, benchBinding); err != nil {
			b.Fatal(err)
		}
	}
}

// cachedAEAD returns the ready AES-GCM of an owner's cached data key.
func cachedAEAD(b *testing.B) (cipher.AEAD, envelope.Header) {
	h := sqldbtest.OpenSQLite(b)
	ks := benchKeystore(b, h)
	owner := benchOwner(b, ks, h.DB)
	dk, ok := ks.owners.Get(owner)
	if !ok {
		b.Fatal("data key not cached")
	}
	return dk.aead, envelope.Header{Domain: dk.domain, KeyID: dk.id}
}

// BenchmarkEnvelopeSeal64 seals a 64-byte field through the envelope with a
// cached data key: header, binding and AES-256-GCM with a random nonce.
func BenchmarkEnvelopeSeal64(b *testing.B) {
	aead, hdr := cachedAEAD(b)
	pt := bytes.Repeat([]byte("p"), 64)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.Seal(aead, hdr, benchBinding, pt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnvelopeOpen64 opens it again.
func BenchmarkEnvelopeOpen64(b *testing.B) {
	aead, hdr := cachedAEAD(b)
	sealed, err := envelope.Seal(aead, hdr, benchBinding, bytes.Repeat([]byte("p"), 64))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := envelope.Open(aead, sealed, benchBinding); err != nil {
			b.Fatal(err)
		}
	}
}

func rawGCM(b *testing.B) cipher.AEAD {
	key := make([]byte, 32)
	rand.Read(key)
	block, _ := aes.NewCipher(key)
	aead, err := cipher.NewGCM(block)
	if err != nil {
		b.Fatal(err)
	}
	return aead
}

// BenchmarkRawGCMSeal64 is the baseline: AES-256-GCM of the same 64 bytes
// with a fresh random nonce, nothing else.
func BenchmarkRawGCMSeal64(b *testing.B) {
	aead := rawGCM(b)
	pt := bytes.Repeat([]byte("p"), 64)
	nonce := make([]byte, 12)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		rand.Read(nonce)
		_ = aead.Seal(nil, nonce, pt, nil)
	}
}

// BenchmarkRawGCMOpen64 is the baseline for opening.
func BenchmarkRawGCMOpen64(b *testing.B) {
	aead := rawGCM(b)
	nonce := make([]byte, 12)
	rand.Read(nonce)
	ct := aead.Seal(nil, nonce, bytes.Repeat([]byte("p"), 64), nil)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aead.Open(nil, nonce, ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRewrap measures keys/s of Rewrap over SECURECART_BENCH_REWRAP_KEYS
// data keys (default 100,000) after a rotation, on each engine.
func BenchmarkRewrap(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("SECURECART_BENCH_REWRAP_KEYS")); err == nil && v > 0 {
		n = v
	}
	for _, eng := range sqldbtest.Engines() {
		b.Run(eng.Name, func(b *testing.B) {
			ctx := context.Background()
			h := eng.Open(b)
			ks := benchKeystore(b, h)
			seedDataKeys(b, ks, h.DB, n)
			b.ResetTimer()
			var moved int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				if _, err := ks.Rotate(ctx, envelope.CustomerPII); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				m, err := ks.Rewrap(ctx, envelope.CustomerPII, nil)
				if err != nil {
					b.Fatal(err)
				}
				moved += m
			}
			b.ReportMetric(float64(moved)/b.Elapsed().Seconds(), "keys/s")
			b.ReportMetric(float64(n), "keys")
		})
	}
}

// seedDataKeys inserts n assigned data keys in large batches.
func seedDataKeys(b *testing.B, ks *Keystore, db sqldb.DB, n int) {
	b.Helper()
	ctx := context.Background()
	kk, err := ks.active(envelope.CustomerPII)
	if err != nil {
		b.Fatal(err)
	}
	for done := 0; done < n; {
		batch := min(10000, n-done)
		rows := make([]dataKeyRow, 0, batch)
		for j := 0; j < batch; j++ {
			dk, w, err := ks.generate(envelope.CustomerPII, kk)
			if err != nil {
				b.Fatal(err)
			}
			rows = append(rows, dataKeyRow{id: dk.id, owner: "owner-" + strconv.Itoa(done+j), wrapped: w})
		}
		if err := ks.insertDataKeys(ctx, envelope.CustomerPII, kk.version, rows, initialReserve); err != nil {
			b.Fatal(err)
		}
		done += batch
	}
}
