package audit

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/objstore/objstoretest"
)

// testSealer seals with one AES-256-GCM key, the binding as associated
// data, as the keystore does with a data key.
type testSealer struct{ aead cipher.AEAD }

func newTestSealer(t testing.TB) *testSealer {
	key := make([]byte, 32)
	rand.Read(key)
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	g, err := cipher.NewGCM(b)
	if err != nil {
		t.Fatal(err)
	}
	return &testSealer{aead: g}
}

func bindingAD(d envelope.Domain, b envelope.Binding) []byte {
	return []byte(d.String() + "\x00" + b.Table + "\x00" + b.Column + "\x00" + b.Row)
}

func (s *testSealer) SealFor(_ context.Context, d envelope.Domain, _ string, b envelope.Binding, pt []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	rand.Read(nonce)
	return s.aead.Seal(append([]byte{byte(d)}, nonce...), nonce, pt, bindingAD(d, b)), nil
}

func (s *testSealer) Open(_ context.Context, sealed []byte, b envelope.Binding) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < 1+n {
		return nil, errors.New("short")
	}
	return s.aead.Open(nil, sealed[1:1+n], sealed[1+n:], bindingAD(envelope.Domain(sealed[0]), b))
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

var archiveBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// appendDays appends one record a day for days from day from, with the
// clock following, and checkpoints after each.
func appendDays(t *testing.T, l *Log, clock *fakeClock, from, days int) {
	t.Helper()
	for d := from; d < from+days; d++ {
		at := archiveBase.AddDate(0, 0, d)
		clock.Set(at)
		for i := range 4 {
			r := sampleRecord(d*4 + i)
			r.Time = at.Add(time.Duration(i) * time.Second)
			if _, err := l.Append(t.Context(), r); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := l.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
}

func localStore(t *testing.T) objstore.Store {
	s, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestArchiverShipsAndResumes(t *testing.T) {
	t.Run("Local", func(t *testing.T) { testShipsAndResumes(t, localStore(t)) })
	t.Run("S3", func(t *testing.T) {
		srv := objstoretest.StartS3(t)
		testShipsAndResumes(t, srv.NewStore(t))
	})
}

// testShipsAndResumes ships a log in three passes, the last by a new
// archiver as after a restart, and checks that what object storage holds
// is the whole log, verifiable on its own.
func testShipsAndResumes(t *testing.T, st objstore.Store) {
	ctx := t.Context()
	k := newTestKey(t)
	sealer := newTestSealer(t)
	clock := &fakeClock{t: archiveBase}
	dir := t.TempDir()
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 2048; o.Now = clock.Now })
	opts := ArchiveOptions{Store: st, Sealer: sealer, Origin: testOrigin, Now: clock.Now}
	a, err := NewArchiver(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	appendDays(t, l, clock, 0, 5)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	appendDays(t, l, clock, 5, 5)
	// Records not yet under a checkpoint are not shipped.
	if _, err := l.Append(ctx, sampleRecord(999)); err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	a, err = NewArchiver(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}

	objs, err := st.List(ctx, objstore.Audit, testOrigin+"/seg/")
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		b, _, err := st.Get(ctx, objstore.Audit, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "storefront") || strings.Contains(string(b), "readCustomer") {
			t.Fatalf("%s holds a record in clear", o.Key)
		}
	}

	out := t.TempDir()
	got, err := Fetch(ctx, st, sealer, testOrigin, out)
	if err != nil {
		t.Fatal(err)
	}
	if got.First != 0 || got.End != 41 || got.Checkpoints != 11 {
		t.Fatalf("fetched %+v, want records 0 to 41 and 11 checkpoints", got)
	}
	rep, err := Verify(out, []note.Verifier{k.verifier}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.Records != 41 {
		t.Fatalf("fetched log: %d records, problems %v", rep.Records, rep.Problems)
	}
	if _, err := Fetch(ctx, st, sealer, testOrigin, out); err == nil {
		t.Fatal("fetch into a directory holding a log succeeded")
	}
}

func TestArchiverRetention(t *testing.T) {
	ctx := t.Context()
	k := newTestKey(t)
	vs := []note.Verifier{k.verifier}
	sealer := newTestSealer(t)
	st := localStore(t)
	clock := &fakeClock{t: archiveBase}
	dir := t.TempDir()
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 1024; o.Now = clock.Now })
	a, err := NewArchiver(dir, ArchiveOptions{Store: st, Sealer: sealer, Origin: testOrigin, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	const days = 500
	for d := 0; d < days; d += 25 {
		appendDays(t, l, clock, d, 25)
		if d == 250 { // a restart, with segments archived and expired
			if a, err = NewArchiver(dir, a.opts); err != nil {
				t.Fatal(err)
			}
		}
		if err := a.Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	now := clock.Now()
	day := 24 * time.Hour

	// Online: the records of the last 90 days, and at most one segment
	// (about a day) more.
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	first, ok := firstTime(segs[0].path)
	if !ok || first.Before(now.Add(-DefaultOnline-2*day)) || first.After(now.Add(-DefaultOnline)) {
		t.Fatalf("oldest online record at %s, now %s", first, now)
	}
	page, err := l.Reader().Query(ctx, Filter{}, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Entries) == 0 || page.Entries[0].Seq != segs[0].first {
		t.Fatalf("query starts at %v, want record %d", page.Entries, segs[0].first)
	}

	// Object storage: nothing older than a year, everything newer, and
	// no record in clear.
	archived, err := st.List(ctx, objstore.Archive, testOrigin+"/seg/")
	if err != nil || len(archived) == 0 {
		t.Fatalf("archive holds %d segments: %v", len(archived), err)
	}
	for _, o := range archived {
		b, _, err := st.Get(ctx, objstore.Archive, o.Key)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), "storefront") || strings.Contains(string(b), "prn_") {
			t.Fatalf("%s holds a record in clear", o.Key)
		}
	}
	out := t.TempDir()
	got, err := Fetch(ctx, st, sealer, testOrigin, out)
	if err != nil {
		t.Fatal(err)
	}
	oldest, ok := firstTime(filepath.Join(out, segName(got.First)))
	if !ok || oldest.Before(now.Add(-DefaultRetention-2*day)) || oldest.After(now.Add(-DefaultRetention)) {
		t.Fatalf("oldest archived record at %s, now %s", oldest, now)
	}
	if got.End != days*4 || got.Checkpoints >= days || got.Start == nil {
		t.Fatalf("fetched %+v", got)
	}
	rep, err := Verify(out, vs, got.Start)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() || rep.First != got.First || rep.Records != got.End-got.First {
		t.Fatalf("archived log: first %d, %d records, problems %v", rep.First, rep.Records, rep.Problems)
	}
	if rep, err = Verify(out, vs, nil); err != nil || rep.OK() {
		t.Fatalf("archived log without a start checkpoint verified: %v", err)
	}

	// The online part verifies from the boundary checkpoint.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	boundary, err := Boundary(ctx, st, testOrigin)
	if err != nil || boundary == nil || boundary.First != segs[0].first {
		t.Fatalf("boundary %+v, want record %d: %v", boundary, segs[0].first, err)
	}
	if bs, _ := st.List(ctx, objstore.Audit, testOrigin+"/boundary/"); len(bs) != 1 {
		t.Fatalf("%d boundaries kept", len(bs))
	}
	if rep, err = VerifyOnline(dir, vs, *boundary); err != nil || !rep.OK() {
		t.Fatalf("online log from the boundary: %v %v", err, rep.Problems)
	}
	// Removing the oldest online segment goes unnoticed without it, not
	// with it.
	if err := os.Remove(segs[0].path); err != nil {
		t.Fatal(err)
	}
	if rep, err = Verify(dir, vs, nil); err != nil || !rep.OK() {
		t.Fatalf("online log: %v %v", err, rep.Problems)
	}
	rep, err = VerifyOnline(dir, vs, *boundary)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].Kind != Truncated || rep.Problems[0].Seq != boundary.First {
		t.Fatalf("segment removed: problems %v, want truncated at %d", rep.Problems, boundary.First)
	}
}

// TestVerifyOnlineCatchesAMissingSegment removes the first online segment
// when the boundary checkpoint lies beyond it: the records left still
// reach that checkpoint, so only the boundary's first record shows the
// gap.
func TestVerifyOnlineCatchesAMissingSegment(t *testing.T) {
	k := newTestKey(t)
	vs := []note.Verifier{k.verifier}
	dir := t.TempDir()
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 1024 })
	appendN(t, l, 0, 60, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(dir)
	if err != nil || len(segs) < 3 {
		t.Fatalf("%d segments: %v", len(segs), err)
	}
	cps, err := ReadCheckpoints(dir)
	if err != nil || len(cps) != 1 || cps[0].Size <= segs[1].first {
		t.Fatalf("checkpoints %v: %v", cps, err)
	}
	b := ArchiveBoundary{First: segs[0].first, Checkpoint: cps[0].Signed}
	if err := os.Remove(segs[0].path); err != nil {
		t.Fatal(err)
	}
	if rep, err := Verify(dir, vs, b.Checkpoint); err != nil || !rep.OK() {
		t.Fatalf("from the checkpoint alone: %v %v", err, rep.Problems)
	}
	rep, err := VerifyOnline(dir, vs, b)
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK() || rep.Problems[0].Kind != Truncated || rep.Problems[0].Seq != b.First {
		t.Fatalf("problems %v, want truncated at %d", rep.Problems, b.First)
	}
}

// flakyStore fails or garbles what the test says.
type flakyStore struct {
	objstore.Store
	mu          sync.Mutex
	failPut     bool
	garbleReads bool
}

func (f *flakyStore) set(failPut, garble bool) {
	f.mu.Lock()
	f.failPut, f.garbleReads = failPut, garble
	f.mu.Unlock()
}

func (f *flakyStore) Put(ctx context.Context, bucket, key string, data []byte, class objstore.Class) (objstore.Info, error) {
	f.mu.Lock()
	fail := f.failPut && bucket == objstore.Archive
	f.mu.Unlock()
	if fail {
		return objstore.Info{}, errors.New("service unavailable")
	}
	return f.Store.Put(ctx, bucket, key, data, class)
}

func (f *flakyStore) Get(ctx context.Context, bucket, key string) ([]byte, objstore.Info, error) {
	b, info, err := f.Store.Get(ctx, bucket, key)
	f.mu.Lock()
	defer f.mu.Unlock()
	if err == nil && f.garbleReads && bucket == objstore.Archive {
		b[len(b)/2] ^= 1
	}
	return b, info, err
}

func TestArchiverKeepsSegmentsUntilVerified(t *testing.T) {
	ctx := t.Context()
	k := newTestKey(t)
	st := &flakyStore{Store: localStore(t)}
	clock := &fakeClock{t: archiveBase}
	dir := t.TempDir()
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 1024; o.Now = clock.Now })
	defer l.Close()
	appendDays(t, l, clock, 0, 120)
	a, err := NewArchiver(dir, ArchiveOptions{Store: st, Sealer: newTestSealer(t), Origin: testOrigin, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	before, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ failPut, garble bool }{{true, false}, {false, true}} {
		st.set(c.failPut, c.garble)
		if err := a.Sync(ctx); err == nil {
			t.Fatalf("sync with put failing %v, reads garbled %v: no error", c.failPut, c.garble)
		}
		if segs, _ := listSegments(dir); len(segs) != len(before) {
			t.Fatalf("put failing %v, reads garbled %v: %d segments left of %d", c.failPut, c.garble, len(segs), len(before))
		}
	}
	st.set(false, false)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if segs, _ := listSegments(dir); len(segs) >= len(before) {
		t.Fatalf("%d segments left of %d after archiving", len(segs), len(before))
	}
}

// TestScanSkipsASegmentArchivedMeanwhile reads past a segment removed
// between the listing and its opening, as the archiver may do.
func TestScanSkipsASegmentArchivedMeanwhile(t *testing.T) {
	dir := t.TempDir()
	l := openTestLog(t, dir, newTestKey(t), func(o *Options) { o.SegmentSize = 1024 })
	appendN(t, l, 0, 40, 1)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, err := listSegments(dir)
	if err != nil || len(segs) < 3 {
		t.Fatalf("%d segments: %v", len(segs), err)
	}
	r := NewReader(dir)
	gone := segment{first: segs[0].first, path: filepath.Join(dir, "gone"+segExt)}
	var seen []uint64
	yield := func(e Entry, err error) bool {
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		seen = append(seen, e.Seq)
		return true
	}
	if !r.scanSegment(t.Context(), gone, 0, 1<<62, false, yield) || len(seen) != 0 {
		t.Fatalf("a missing segment stopped the scan or yielded %v", seen)
	}
	if r.scanSegment(t.Context(), gone, 0, 1<<62, true, func(e Entry, err error) bool {
		return err != nil && errors.Is(err, ErrCorrupt)
	}) {
		t.Fatal("a missing last segment did not end the scan")
	}
	if err := os.Remove(segs[1].path); err != nil {
		t.Fatal(err)
	}
	// A segment gone from the listing too: the scan reads on after it.
	for e, err := range r.Scan(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq >= segs[1].first && e.Seq < segs[2].first {
			t.Fatalf("record %d of a removed segment", e.Seq)
		}
	}
}
