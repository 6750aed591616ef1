package audit

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"

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
	opened := openCheckpoints(notes, verifiers)
	var cps []Checkpoint
	var prev Checkpoint
	for i := range notes {
		if i == 0 && trusted > 0 {
			if c, err := opened[i].c, opened[i].err; err == nil && c.Number <= trusted {
				prev.Number = c.Number - 1
			}
		}
		want := prev.Number + 1
		c, err := opened[i].c, opened[i].err
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

type openedCheckpoint struct {
	c   Checkpoint
	err error
}

// openCheckpoints opens the signed notes on every processor: checking
// their signatures is a good part of a verification's work.
func openCheckpoints(notes [][]byte, verifiers []note.Verifier) []openedCheckpoint {
	out := make([]openedCheckpoint, len(notes))
	workers := min(runtime.GOMAXPROCS(0), 8, max(len(notes)/8, 1))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(notes); i += workers {
				out[i].c, out[i].err = OpenCheckpoint(notes[i], verifiers...)
			}
		})
	}
	wg.Wait()
	return out
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
	rb := newBatchReader()
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
		batches := rb.start(fr, i == len(segs)-1)
		for b := range batches {
			leaves := b.leaves()
			for j := range b.n {
				if seq := b.seqs[j]; seq != expect {
					r.add(Problem{Kind: Sequence, Seq: expect, Detail: fmt.Sprintf("found record %d", seq)})
					stopped = true
					break
				}
				tree.Append(leaves[j], nil)
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
			if !stopped && b.err != nil && b.err != io.EOF {
				r.add(Problem{Kind: BadRecord, Seq: expect, Detail: b.err.Error()})
				stopped = true
			}
			rb.done(b)
			if stopped || b.err != nil {
				break
			}
		}
		rb.stop()
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

// batchReader reads a segment's frames in batches in a goroutine of its
// own while the batch before is hashed: leaf hashing, on every processor,
// and the tree's hashing, in order, are most of a verification.
type batchReader struct {
	free    chan *leafBatch
	out     chan *leafBatch
	quit    chan struct{}
	stopped sync.WaitGroup
}

// leafBatch is one batch of frames: their sequence numbers and records,
// and the frame error that ended it (io.EOF at the end of the segment).
type leafBatch struct {
	n       int
	err     error
	seqs    []uint64
	ends    []int
	slab    []byte
	out     [][]byte
	hashers []*treeHasher
}

// verifyBatch is how many records a batch holds at most.
const verifyBatch = 4096

func newBatchReader() *batchReader {
	rb := &batchReader{free: make(chan *leafBatch, 2)}
	for range 2 {
		b := &leafBatch{}
		for range min(runtime.GOMAXPROCS(0), 8) {
			b.hashers = append(b.hashers, newTreeHasher())
		}
		rb.free <- b
	}
	return rb
}

// start reads fr's batches into the returned channel until a frame
// error or the end of the segment; a torn frame that ends the last
// segment counts as its end. Give each batch back with done, and call
// stop before reading fr otherwise.
func (rb *batchReader) start(fr *frameReader, last bool) <-chan *leafBatch {
	out := make(chan *leafBatch, 1)
	rb.out, rb.quit = out, make(chan struct{})
	rb.stopped.Add(1)
	go func() {
		defer rb.stopped.Done()
		defer close(out)
		for {
			var b *leafBatch
			select {
			case b = <-rb.free:
			case <-rb.quit:
				return
			}
			b.read(fr, last)
			select {
			case out <- b:
			case <-rb.quit:
				rb.free <- b
				return
			}
			if b.err != nil {
				return
			}
		}
	}()
	return out
}

// done gives a batch back for reading.
func (rb *batchReader) done(b *leafBatch) { rb.free <- b }

// stop ends the reading goroutine and takes back the batches it had
// read ahead.
func (rb *batchReader) stop() {
	close(rb.quit)
	rb.stopped.Wait()
	for b := range rb.out {
		rb.free <- b
	}
}

func (b *leafBatch) read(fr *frameReader, last bool) {
	b.n, b.err = 0, nil
	b.seqs, b.ends, b.slab = b.seqs[:0], b.ends[:0], b.slab[:0]
	for b.n < verifyBatch {
		seq, rec, err := fr.next()
		if err == io.EOF || (err == errTorn && last) {
			b.err = io.EOF
			return
		}
		if err != nil {
			b.err = err
			return
		}
		b.slab = append(b.slab, rec...)
		b.seqs = append(b.seqs, seq)
		b.ends = append(b.ends, len(b.slab))
		b.n++
	}
}

// leaves returns the leaf hashes of the batch's records.
func (b *leafBatch) leaves() [][]byte {
	n := b.n
	b.out = slices.Grow(b.out[:0], n)[:n]
	hash := func(h *treeHasher, lo, hi int) {
		start := 0
		if lo > 0 {
			start = b.ends[lo-1]
		}
		for i := lo; i < hi; i++ {
			b.out[i] = h.leaf(b.slab[start:b.ends[i]])
			start = b.ends[i]
		}
	}
	workers := len(b.hashers)
	if n < 256 || workers == 1 {
		hash(b.hashers[0], 0, n)
		return b.out
	}
	var wg sync.WaitGroup
	per := (n + workers - 1) / workers
	for w, h := range b.hashers {
		lo, hi := w*per, min((w+1)*per, n)
		if lo >= hi {
			break
		}
		wg.Go(func() { hash(h, lo, hi) })
	}
	wg.Wait()
	return b.out
}

// tornHeader reports whether s, the last segment, is one a crash left
// while creating it: named for the next record, and no longer than the
// header it should start with, so it holds no record.
func tornHeader(s segment, expect uint64, tree *compact.Range) bool {
	st, err := os.Stat(s.path)
	return err == nil && s.first == expect && st.Size() <= int64(17+len(tree.Hashes())*hashSize+4)
}
