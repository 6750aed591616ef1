package audit

import (
	"errors"
	"sync"
	"testing"
)

// asyncResults collects what AppendAsync reports.
type asyncResults struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	seqs map[uint64]bool
	errs []error
}

func (a *asyncResults) then(seq uint64, err error) {
	defer a.wg.Done()
	a.mu.Lock()
	defer a.mu.Unlock()
	if err != nil {
		a.errs = append(a.errs, err)
		return
	}
	a.seqs[seq] = true
}

func TestAppendAsync(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	l := openTestLog(t, dir, k, nil)

	// Asynchronous appends share batches with waited-on ones.
	res := &asyncResults{seqs: map[uint64]bool{}}
	var wg sync.WaitGroup
	wg.Go(func() { appendN(t, l, 0, 200, 4) })
	for i := range 200 {
		res.wg.Add(1)
		if err := l.AppendAsync(sampleRecord(1000+i), res.then); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	res.wg.Wait()
	if len(res.errs) > 0 || len(res.seqs) != 200 {
		t.Fatalf("%d distinct sequence numbers, errors %v", len(res.seqs), res.errs)
	}
	for s := range res.seqs {
		if s >= 400 {
			t.Fatalf("sequence number %d beyond the 400 records", s)
		}
	}

	// A record that cannot be encoded is refused at once.
	bad := sampleRecord(1)
	bad.Action = ""
	if err := l.AppendAsync(bad, func(uint64, error) { t.Error("called back for a refused record") }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("record without an action: %v", err)
	}

	// Queued records are written before Close returns.
	res = &asyncResults{seqs: map[uint64]bool{}}
	for i := range 50 {
		res.wg.Add(1)
		if err := l.AppendAsync(sampleRecord(2000+i), res.then); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	res.wg.Wait()
	if len(res.seqs) != 50 {
		t.Fatalf("%d of 50 queued records written at close (errors %v)", len(res.seqs), res.errs)
	}
	if rep := mustVerify(t, dir, k, nil); rep.Records != 450 {
		t.Fatalf("%d records verified, want 450", rep.Records)
	}
	if err := l.AppendAsync(sampleRecord(3000), func(uint64, error) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("after close: %v", err)
	}
}

// On a broken disk the callback gets the error Append would have returned.
func TestAppendAsyncUnavailable(t *testing.T) {
	fs := &failFS{}
	l := openTestLog(t, t.TempDir(), newTestKey(t), func(o *Options) { o.fs = fs })
	defer l.Close()
	fs.broken.Store(true)
	res := &asyncResults{seqs: map[uint64]bool{}}
	for i := range 20 {
		res.wg.Add(1)
		if err := l.AppendAsync(sampleRecord(i), res.then); err != nil {
			t.Fatal(err)
		}
	}
	res.wg.Wait()
	if len(res.seqs) != 0 || len(res.errs) != 20 {
		t.Fatalf("%d written, %d errors on a broken disk", len(res.seqs), len(res.errs))
	}
	for _, err := range res.errs {
		if !errors.Is(err, ErrUnavailable) {
			t.Fatalf("error %v, want ErrUnavailable", err)
		}
	}
}
