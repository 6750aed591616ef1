package audit

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/transparency-dev/merkle/proof"
	"github.com/transparency-dev/merkle/rfc6962"
)

// buildLog writes n records with a checkpoint after each of the sizes in
// at, and closes the log (a last checkpoint at n).
func buildLog(t *testing.T, dir string, k testKey, n int, at ...int) {
	t.Helper()
	l := openTestLog(t, dir, k, func(o *Options) { o.SegmentSize = 8192 })
	done := 0
	for _, a := range append(at, n) {
		appendN(t, l, done, a-done, 1)
		done = a
		if _, err := l.Checkpoint(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestProofsVerifyWithTheMerkleLibrary(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	buildLog(t, dir, k, 300, 1, 2, 7, 64, 100, 129)
	cps, err := ReadCheckpoints(dir)
	if err != nil || len(cps) != 7 {
		t.Fatalf("%d checkpoints, %v", len(cps), err)
	}
	h := rfc6962.DefaultHasher
	for _, cp := range cps {
		for _, seq := range []uint64{0, 1, cp.Size / 2, cp.Size - 1} {
			if seq >= cp.Size {
				continue
			}
			p, err := ProveInclusion(dir, seq, cp)
			if err != nil {
				t.Fatal(err)
			}
			// The library's own verifier, with nothing of this package.
			if err := proof.VerifyInclusion(h, seq, cp.Size, h.HashLeaf(p.Record), p.Hashes, cp.Root); err != nil {
				t.Fatalf("record %d in %d: %v", seq, cp.Size, err)
			}
			// Through the proof file and Verify.
			b, _ := json.Marshal(p)
			q, err := ParseProof(b)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := q.Verify(k.verifier); err != nil {
				t.Fatalf("proof file of record %d: %v", seq, err)
			}
			// A proof for another record, or with an edited record, fails.
			q.Index = (seq + 1) % cp.Size
			if _, err := q.Verify(k.verifier); cp.Size > 1 && !errors.Is(err, ErrProof) {
				t.Fatalf("proof moved to another index verified: %v", err)
			}
		}
	}
	for i := range cps {
		for j := i; j < len(cps); j++ {
			p, err := ProveConsistency(dir, cps[i], cps[j])
			if err != nil {
				t.Fatal(err)
			}
			if err := proof.VerifyConsistency(h, cps[i].Size, cps[j].Size, p.Hashes, cps[i].Root, cps[j].Root); err != nil {
				t.Fatalf("consistency %d..%d: %v", cps[i].Size, cps[j].Size, err)
			}
			if _, err := p.Verify(k.verifier); err != nil {
				t.Fatalf("consistency file %d..%d: %v", cps[i].Size, cps[j].Size, err)
			}
		}
	}
}

func TestProofRejected(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	buildLog(t, dir, k, 50, 20)
	cps, _ := ReadCheckpoints(dir)
	p, err := ProveInclusion(dir, 10, cps[1])
	if err != nil {
		t.Fatal(err)
	}
	edited := *p
	edited.Record = append([]byte(nil), p.Record...)
	edited.Record[len(edited.Record)-1] ^= 1
	other := newTestKey(t)
	cases := map[string]func() error{
		"edited record": func() error { _, err := edited.Verify(k.verifier); return err },
		"another key":   func() error { _, err := p.Verify(other.verifier); return err },
		"edited hash": func() error {
			q := *p
			q.Hashes = [][]byte{append([]byte{1}, p.Hashes[0][1:]...)}
			q.Hashes = append(q.Hashes, p.Hashes[1:]...)
			_, err := q.Verify(k.verifier)
			return err
		},
		"unknown kind": func() error { q := *p; q.Kind = "x"; _, err := q.Verify(k.verifier); return err },
		"consistency reversed": func() error {
			c, err := ProveConsistency(dir, cps[0], cps[1])
			if err != nil {
				return nil
			}
			c.Checkpoint, c.OldCheckpoint = c.OldCheckpoint, c.Checkpoint
			_, err = c.Verify(k.verifier)
			return err
		},
	}
	for name, fn := range cases {
		if fn() == nil {
			t.Errorf("%s: verified", name)
		}
	}
	if _, err := ParseProof([]byte(`{"kind":"inclusion","extra":1}`)); err == nil {
		t.Error("a proof file with an unknown field parsed")
	}
}
