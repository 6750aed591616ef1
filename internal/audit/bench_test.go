package audit

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// benchWriters are the concurrent writer counts of the append benchmarks.
var benchWriters = []int{1, 16, 256}

// runWriters runs b.N calls of fn from w goroutines and reports records/s.
func runWriters(b *testing.B, w int, fn func(i int) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, w)
	b.ResetTimer()
	start := time.Now()
	for range w {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				if err := fn(i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "records/s")
	b.StopTimer()
	close(errc)
	for err := range errc {
		b.Fatal(err)
	}
}

// BenchmarkAuditAppend measures durable appends through Log.Append:
// redaction, encoding, framing, hashing into the tree, one write and one
// fsync per batch.
func BenchmarkAuditAppend(b *testing.B) {
	k := newTestKey(b)
	recs := make([]*Record, 1024)
	for i := range recs {
		recs[i] = sampleRecord(i)
	}
	for _, w := range benchWriters {
		b.Run(fmt.Sprintf("writers-%d", w), func(b *testing.B) {
			l := openTestLog(b, b.TempDir(), k, func(o *Options) { o.CheckpointEvery = time.Second })
			defer l.Close()
			ctx := context.Background()
			runWriters(b, w, func(i int) error {
				_, err := l.Append(ctx, recs[i%len(recs)])
				return err
			})
		})
	}
}

// rawLog is the baseline: the same frames, gathered by one writer
// goroutine the same way and written with one write and one fsync per
// batch, with no encoding, redaction or hashing.
type rawLog struct {
	f     *os.File
	queue chan rawReq
	max   int
}

type rawReq struct {
	frame []byte
	done  chan error
}

func (r *rawLog) run() {
	var buf []byte
	batch := make([]rawReq, 0, r.max)
	for p := range r.queue {
		batch = append(batch[:0], p)
		buf = append(buf[:0], p.frame...)
	gather:
		for len(batch) < r.max {
			select {
			case q, ok := <-r.queue:
				if !ok {
					break gather
				}
				batch = append(batch, q)
				buf = append(buf, q.frame...)
			default:
				break gather
			}
		}
		_, err := r.f.Write(buf)
		if err == nil {
			err = r.f.Sync()
		}
		for _, q := range batch {
			q.done <- err
		}
	}
}

func (r *rawLog) append(frame []byte) error {
	done := make(chan error, 1)
	r.queue <- rawReq{frame: frame, done: done}
	return <-done
}

func BenchmarkAuditRawAppend(b *testing.B) {
	frames := make([][]byte, 1024)
	for i := range frames {
		rec, err := sampleRecord(i).Encode()
		if err != nil {
			b.Fatal(err)
		}
		frames[i] = appendFrame(nil, uint64(i), rec)
	}
	for _, w := range benchWriters {
		b.Run(fmt.Sprintf("writers-%d", w), func(b *testing.B) {
			f, err := os.OpenFile(filepath.Join(b.TempDir(), "raw"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			r := &rawLog{f: f, queue: make(chan rawReq, 1024), max: 1024}
			go r.run()
			defer close(r.queue)
			runWriters(b, w, func(i int) error { return r.append(frames[i%len(frames)]) })
		})
	}
}

const benchVerifyRecords = 100_000

var (
	verifyOnce sync.Once
	verifyDir  string
	verifyKey  testKey
	verifyRecs [][]byte
)

// verifyLog builds, once, a log of benchVerifyRecords records with a
// checkpoint every 1,000.
func verifyLog(b *testing.B) (string, testKey, [][]byte) {
	verifyOnce.Do(func() {
		dir, err := os.MkdirTemp("", "audit-bench")
		if err != nil {
			b.Fatal(err)
		}
		verifyDir, verifyKey = dir, newTestKey(b)
		l := openTestLog(b, dir, verifyKey, nil)
		ctx := context.Background()
		for i := range benchVerifyRecords {
			if _, err := l.Append(ctx, sampleRecord(i)); err != nil {
				b.Fatal(err)
			}
			if i%1000 == 999 {
				l.Checkpoint(ctx)
			}
		}
		if err := l.Close(); err != nil {
			b.Fatal(err)
		}
		for e, err := range NewReader(dir).Scan(ctx, 0) {
			if err != nil {
				b.Fatal(err)
			}
			rec, _ := e.Record.Encode()
			verifyRecs = append(verifyRecs, rec)
		}
	})
	return verifyDir, verifyKey, verifyRecs
}

// BenchmarkAuditVerify measures Verify over a log of 100,000 records in
// the page cache: read, checksum, leaf and tree hashing, 100 checkpoints.
func BenchmarkAuditVerify(b *testing.B) {
	dir, k, _ := verifyLog(b)
	vs := []note.Verifier{k.verifier}
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		rep, err := Verify(dir, vs, nil)
		if err != nil || !rep.OK() {
			b.Fatalf("verify: %v %v", err, rep.Problems)
		}
	}
	b.ReportMetric(float64(b.N)*benchVerifyRecords/time.Since(start).Seconds(), "records/s")
}

// BenchmarkAuditSHA256 is the baseline: SHA-256 of each of the same
// records, from memory.
func BenchmarkAuditSHA256(b *testing.B) {
	_, _, recs := verifyLog(b)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		for _, r := range recs {
			sha256.Sum256(r)
		}
	}
	b.ReportMetric(float64(b.N)*float64(len(recs))/time.Since(start).Seconds(), "records/s")
}
