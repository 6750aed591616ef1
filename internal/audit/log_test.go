package audit

import (
	"errors"
	"slices"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

func mustVerify(t *testing.T, dir string, k testKey, from []byte) *Report {
	t.Helper()
	rep, err := Verify(dir, []note.Verifier{k.verifier}, from)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("verify: %v", rep.Problems)
	}
	return rep
}

func TestAppendVerifyReopen(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 4096 })
	seqs := appendN(t, l, 0, 500, 16)
	sorted := slices.Sorted(slices.Values(seqs))
	for i, s := range sorted {
		if s != uint64(i) {
			t.Fatalf("sequence numbers are not 0..499 without gaps: at %d got %d", i, s)
		}
	}
	if _, err := l.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendN(t, l, 500, 100, 4)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	segs, _ := listSegments(dir)
	if len(segs) < 5 {
		t.Fatalf("%d segments; rotation at 4 KiB should have made more", len(segs))
	}
	rep := mustVerify(t, dir, k, nil)
	if rep.Records != 600 || rep.Checkpoints != 2 || rep.Last.Size != 600 {
		t.Fatalf("report %+v", rep)
	}

	// Reopen and continue; the tree carries on.
	l = openTestLog(t, dir, k, nil)
	if size, _ := l.Head(); size != 600 {
		t.Fatalf("reopened at size %d", size)
	}
	s, err := l.Append(t.Context(), sampleRecord(600))
	if err != nil || s != 600 {
		t.Fatalf("append after reopen: %d, %v", s, err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep = mustVerify(t, dir, k, nil)
	if rep.Records != 601 || rep.Checkpoints != 3 {
		t.Fatalf("report %+v", rep)
	}

	// Every stored record decodes to what was appended.
	n := 0
	for e, err := range NewReader(dir).Scan(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		want := sampleRecord(int(e.Record.Time.Sub(sampleRecord(0).Time).Milliseconds()))
		a, _ := want.Encode()
		b, _ := e.Record.Encode()
		if string(a) != string(b) {
			t.Fatalf("record %d differs from the one appended", e.Seq)
		}
	}
	if n != 601 {
		t.Fatalf("scanned %d records", n)
	}
}

func TestOneWriter(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	l := openTestLog(t, dir, k, nil)
	if _, err := Open(dir, Options{Origin: testOrigin, Signer: k.signer}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Append(t.Context(), sampleRecord(0)); !errors.Is(err, ErrClosed) {
		t.Fatalf("append after Close: %v", err)
	}
	l = openTestLog(t, dir, k, nil)
	l.Close()
	other := newTestKey(t)
	other.signer = mustNamedSigner(t, "other.example/audit")
	l = openTestLog(t, dir, k, nil)
	l.Append(t.Context(), sampleRecord(0))
	l.Close()
	if _, err := Open(dir, Options{Origin: "other.example/audit", Signer: other.signer}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("open under another origin: %v", err)
	}
	if origin, err := LogOrigin(dir); err != nil || origin != testOrigin {
		t.Fatalf("LogOrigin = %q, %v", origin, err)
	}
}

func mustNamedSigner(t *testing.T, name string) note.Signer {
	skey, _, err := note.GenerateKey(nil, name)
	if err != nil {
		t.Fatal(err)
	}
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
