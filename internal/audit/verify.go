package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// ProblemKind names what Verify found wrong.
type ProblemKind string

// Problems Verify reports. Seq and Checkpoint in a Problem say where.
const (
	// BadRecord: a frame or segment header whose length or checksum is
	// wrong (an edited byte, inserted bytes). Seq is the record.
	BadRecord ProblemKind = "bad-record"
	// Sequence: a record where another was expected (a record deleted,
	// inserted or moved, or a segment missing). Seq is the expected one.
	Sequence ProblemKind = "sequence"
	// RootMismatch: the records hash to another root than a checkpoint
	// signed (records rewritten with valid frames). The change is in
	// [Seq, End) of checkpoint Checkpoint.
	RootMismatch ProblemKind = "root-mismatch"
	// Truncated: a checkpoint covers records the log no longer has. Seq
	// is the first missing record.
	Truncated ProblemKind = "truncated"
	// BadCheckpoint: a checkpoint that does not parse, does not verify
	// with the key, or contradicts the ones before it (forged or edited).
	BadCheckpoint ProblemKind = "bad-checkpoint"
	// MissingCheckpoint: a gap in the checkpoint numbers (a checkpoint
	// deleted), or a trusted checkpoint the directory does not have.
	MissingCheckpoint ProblemKind = "missing-checkpoint"
	// Unsealed: records after the last checkpoint. After a crash this is
	// the last interval's records until the log is opened again; otherwise
	// the last checkpoint was deleted. Seq is the first unsealed record.
	Unsealed ProblemKind = "unsealed"
)

// Problem is one finding of Verify.
type Problem struct {
	Kind ProblemKind
	// Seq is the first record at fault.
	Seq uint64
	// End, for RootMismatch, bounds the records at fault.
	End uint64
	// Checkpoint is the number of the checkpoint at fault, or 0.
	Checkpoint uint64
	Detail     string
}

func (p Problem) String() string {
	s := fmt.Sprintf("%s at record %d", p.Kind, p.Seq)
	if p.Kind == RootMismatch {
		s = fmt.Sprintf("%s in records %d to %d", p.Kind, p.Seq, p.End-1)
	}
	if p.Checkpoint != 0 {
		s += fmt.Sprintf(", checkpoint %d", p.Checkpoint)
	}
	if p.Detail != "" {
		s += ": " + p.Detail
	}
	return s
}

// Report is the result of Verify.
type Report struct {
	// First is the first record in the directory (older segments may have
	// been moved away) and Records the count of records after it that
	// verified.
	First, Records uint64
	// Checkpoints counts the checkpoints whose signature verified.
	Checkpoints int
	// Last is the newest checkpoint that verified.
	Last Checkpoint
	// Problems are in the order found; the first is the first bad
	// position. Empty means the log verified.
	Problems []Problem
}

// OK reports whether nothing was found.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

func (r *Report) add(p Problem) { r.Problems = append(r.Problems, p) }

// Verify checks the log in dir with the verifier keys of its signer (see
// the package doc, "Verification"). from, if not nil, is a signed
// checkpoint kept elsewhere and trusted: the directory must hold it and
// extend it. The returned error is for a directory that cannot be read;
// what is wrong with the log is in the Report.
func Verify(dir string, verifiers []note.Verifier, from []byte) (*Report, error) {
	r := &Report{}
	data, err := os.ReadFile(filepath.Join(dir, CheckpointsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	var trusted Checkpoint
	if from != nil {
		if trusted, err = OpenCheckpoint(from, verifiers...); err != nil {
			return nil, fmt.Errorf("trusted checkpoint: %w", err)
		}
	}
	cps := r.checkCheckpoints(data, verifiers, trusted.Number)
	if from != nil {
		cps = r.checkTrusted(trusted, cps)
	}
	if err := r.checkRecords(dir, cps); err != nil {
		return nil, err
	}
	if from != nil && trusted.Size < r.First {
		r.add(Problem{Kind: Truncated, Seq: trusted.Size, Checkpoint: trusted.Number,
			Detail: fmt.Sprintf("the directory starts at record %d, after the trusted checkpoint's %d records",
				r.First, trusted.Size)})
	}
	return r, nil
}

// checkCheckpoints verifies the signature and sequence of each checkpoint
// and returns those that verified. Numbering starts at 1, or, when trusted
// is not 0 (verification from a trusted checkpoint), at any number up to
// trusted: older checkpoints may have passed retention.
func (r *Report) checkCheckpoints(data []byte, verifiers []note.Verifier, trusted uint64) []Checkpoint {
	notes, torn := splitNotes(data)
	var cps []Checkpoint
	var prev Checkpoint
	for i, n := range notes {
		if i == 0 && trusted > 0 {
			if c, err := OpenCheckpoint(n, verifiers...); err == nil && c.Number <= trusted {
				prev.Number = c.Number - 1
			}
		}
		want := prev.Number + 1
		c, err := OpenCheckpoint(n, verifiers...)
		if err != nil {
			r.add(Problem{Kind: BadCheckpoint, Seq: prev.Size, Checkpoint: want, Detail: err.Error()})
			prev.Number = want
			continue
		}
		switch {
		case prev.Origin != "" && c.Origin != prev.Origin:
			r.add(Problem{Kind: BadCheckpoint, Seq: prev.Size, Checkpoint: c.Number,
				Detail: fmt.Sprintf("origin %q after %q", c.Origin, prev.Origin)})
		case c.Number < want:
			r.add(Problem{Kind: BadCheckpoint, Seq: c.Size, Checkpoint: c.Number,
				Detail: fmt.Sprintf("number %d after %d", c.Number, prev.Number)})
			continue
		case c.Number > want:
			r.add(Problem{Kind: MissingCheckpoint, Seq: prev.Size, Checkpoint: want,
				Detail: fmt.Sprintf("checkpoint %d follows %d", c.Number, prev.Number)})
		}
		if c.Size <= prev.Size || c.Time.Before(prev.Time) {
			r.add(Problem{Kind: BadCheckpoint, Seq: prev.Size, Checkpoint: c.Number,
				Detail: "does not follow the checkpoint before it in size and time"})
		}
		cps = append(cps, c)
		prev = c
		r.Checkpoints++
		r.Last = c
	}
	if torn < len(data) {
		r.add(Problem{Kind: BadCheckpoint, Seq: prev.Size, Checkpoint: prev.Number + 1,
			Detail: "incomplete checkpoint at the end of the file"})
	}
	return cps
}

// checkTrusted checks that the directory holds the trusted checkpoint,
// and returns the checkpoints to compare the records with: cps, with the
// trusted one in its place if the directory lacks it.
func (r *Report) checkTrusted(t Checkpoint, cps []Checkpoint) []Checkpoint {
	for _, c := range cps {
		if c.Number == t.Number {
			if c.Size != t.Size || !bytes.Equal(c.Root, t.Root) || !c.Time.Equal(t.Time) {
				r.add(Problem{Kind: BadCheckpoint, Seq: t.Size, Checkpoint: t.Number,
					Detail: "differs from the trusted checkpoint"})
			}
			return cps
		}
	}
	r.add(Problem{Kind: MissingCheckpoint, Seq: t.Size, Checkpoint: t.Number,
		Detail: "the trusted checkpoint is not in the directory"})
	if r.Last.Size < t.Size {
		r.Last = t
	}
	i := 0
	for i < len(cps) && cps[i].Size <= t.Size {
		i++
	}
	return slices.Insert(slices.Clone(cps), i, t)
}

// checkRecords recomputes the tree from the segments and compares it with
// every checkpoint.
func (r *Report) checkRecords(dir string, cps []Checkpoint) error {
	segs, err := listSegments(dir)
	if err != nil {
		return err
	}
	next := 0 // the next checkpoint to compare
	var expect uint64
	var tree *compact.Range
	var badHead *Problem
	th := newTreeHasher()
	stopped := false
	for i, s := range segs {
		f, rng, fr, err := openSegment(s.path)
		if err != nil {
			if errors.Is(err, errHeader) && i == len(segs)-1 && tree != nil && tornHeader(s, expect, tree) {
				break // a crash while the segment was created: Open removes it
			}
			if errors.Is(err, errHeader) {
				r.add(Problem{Kind: BadRecord, Seq: expect, Detail: "segment " + filepath.Base(s.path) + ": " + err.Error()})
				stopped = true
				break
			}
			return err
		}
		switch {
		case tree == nil:
			if tree, err = th.rangeFrom(rng); err != nil {
				f.Close()
				return err
			}
			r.First, expect = rng.End(), rng.End()
			for next < len(cps) && cps[next].Size <= expect {
				if root, _ := tree.GetRootHash(nil); cps[next].Size == expect && !bytes.Equal(root, cps[next].Root) {
					r.add(Problem{Kind: BadRecord, Seq: expect, Checkpoint: cps[next].Number,
						Detail: "segment " + filepath.Base(s.path) + ": header does not match the checkpoint"})
					stopped = true
				}
				next++
			}
		case rng.End() != expect:
			f.Close()
			r.add(Problem{Kind: Sequence, Seq: expect, Detail: fmt.Sprintf("segment %s starts at record %d", filepath.Base(s.path), rng.End())})
			stopped = true
		case !sameRange(rng, tree) && badHead == nil:
			// The checkpoints decide whether the records or the header
			// changed; the header is reported only if they do not.
			badHead = &Problem{Kind: BadRecord, Seq: expect,
				Detail: "segment " + filepath.Base(s.path) + ": header does not match the records before it"}
		}
		if stopped {
			f.Close()
			break
		}
		last := i == len(segs)-1
		for {
			seq, rec, err := fr.next()
			if err == io.EOF || (err == errTorn && last) {
				break
			}
			if err != nil {
				r.add(Problem{Kind: BadRecord, Seq: expect, Detail: err.Error()})
				stopped = true
				break
			}
			if seq != expect {
				r.add(Problem{Kind: Sequence, Seq: expect, Detail: fmt.Sprintf("found record %d", seq)})
				stopped = true
				break
			}
			tree.Append(th.leaf(rec), nil)
			expect++
			for !stopped && next < len(cps) && cps[next].Size == expect {
				root, _ := tree.GetRootHash(nil)
				if !bytes.Equal(root, cps[next].Root) {
					from := r.First
					if next > 0 {
						from = max(cps[next-1].Size, r.First)
					}
					r.add(Problem{Kind: RootMismatch, Seq: from, End: expect, Checkpoint: cps[next].Number})
					stopped = true
					break
				}
				next++
			}
			if stopped {
				break
			}
		}
		f.Close()
		if stopped {
			break
		}
	}
	r.Records = expect - r.First
	if stopped {
		return nil
	}
	if badHead != nil {
		r.add(*badHead)
	}
	if next < len(cps) {
		r.add(Problem{Kind: Truncated, Seq: expect, Checkpoint: cps[next].Number,
			Detail: fmt.Sprintf("checkpoint %d covers %d records", cps[next].Number, cps[next].Size)})
	} else if expect > r.Last.Size {
		r.add(Problem{Kind: Unsealed, Seq: r.Last.Size, Checkpoint: r.Last.Number + 1,
			Detail: fmt.Sprintf("%d records after the last checkpoint", expect-r.Last.Size)})
	}
	return nil
}

// tornHeader reports whether s, the last segment, is one a crash left
// while creating it: named for the next record, and no longer than the
// header it should start with, so it holds no record.
func tornHeader(s segment, expect uint64, tree *compact.Range) bool {
	st, err := os.Stat(s.path)
	return err == nil && s.first == expect && st.Size() <= int64(17+len(tree.Hashes())*hashSize+4)
}
