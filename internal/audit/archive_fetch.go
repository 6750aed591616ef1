package audit

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"golang.org/x/mod/sumdb/note"

	"github.com/securecart/securecart/internal/objstore"
)

// Fetched says what Fetch wrote.
type Fetched struct {
	// Segments counts the segment files written; First and End bound
	// their records.
	Segments   int
	First, End uint64
	// Checkpoints counts the checkpoints written.
	Checkpoints int
	// Start is the first signed checkpoint that covers record First (nil
	// if none does): the checkpoint to verify the directory from, since
	// the checkpoints before it may have passed retention.
	Start []byte
	// Boundary is where the archive ends and the node's online records
	// begin (nil if no segment was archived).
	Boundary *ArchiveBoundary
}

// Fetch copies the log origin's records and checkpoints from object
// storage into dir, opened, as an audit directory that Verify checks: the
// archived segments, then the shipped chunks the archive does not hold,
// and every shipped checkpoint in one checkpoints file. dir must not hold
// a log already.
func Fetch(ctx context.Context, st objstore.Store, s Sealer, origin, dir string) (Fetched, error) {
	var out Fetched
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return out, fmt.Errorf("create directory: %w", err)
	}
	segs, err := listSegments(dir)
	if err != nil {
		return out, err
	}
	if _, err := os.Stat(filepath.Join(dir, CheckpointsFile)); len(segs) > 0 || err == nil {
		return out, fmt.Errorf("fetch audit trail: %s already holds a log", dir)
	}
	spans, err := storedSpans(ctx, st, origin)
	if err != nil {
		return out, err
	}
	for i, sp := range spans {
		plain, err := getSealed(ctx, st, s, origin, sp.bucket, sp.key)
		if err != nil {
			return out, err
		}
		rng, _, err := readHeader(bytes.NewReader(plain))
		if err != nil || rng.End() != sp.first {
			return out, fmt.Errorf("%w: %s does not hold a segment from record %d", ErrCorrupt, sp.key, sp.first)
		}
		if err := os.WriteFile(filepath.Join(dir, segName(sp.first)), plain, 0o600); err != nil {
			return out, fmt.Errorf("write segment: %w", err)
		}
		if i == 0 {
			out.First = sp.first
		}
		out.Segments, out.End = out.Segments+1, sp.end
	}
	if out.Checkpoints, out.Start, err = fetchCheckpoints(ctx, st, origin, dir, out.First); err != nil {
		return out, err
	}
	out.Boundary, err = Boundary(ctx, st, origin)
	return out, err
}

// ArchiveBoundary is where the archive of a log ends and the records
// still on the node begin, as the archiver stored it when it last moved
// segments off the node.
type ArchiveBoundary struct {
	// First is the first record left on the node.
	First uint64
	// Checkpoint is the first signed checkpoint that covers First.
	Checkpoint []byte
}

// Boundary returns the archive boundary of origin, or nil if no segment
// was archived.
func Boundary(ctx context.Context, st objstore.Store, origin string) (*ArchiveBoundary, error) {
	objs, err := st.List(ctx, objstore.Audit, origin+"/boundary/")
	if err != nil {
		return nil, fmt.Errorf("list boundaries: %w", err)
	}
	var b *ArchiveBoundary
	var key string
	for _, o := range objs {
		if first, ok := parseBoundaryKey(origin, o.Key); ok && (b == nil || first > b.First) {
			b, key = &ArchiveBoundary{First: first}, o.Key
		}
	}
	if b == nil {
		return nil, nil
	}
	if b.Checkpoint, _, err = st.Get(ctx, objstore.Audit, key); err != nil {
		return nil, fmt.Errorf("read boundary checkpoint: %w", err)
	}
	return b, nil
}

// VerifyOnline checks the records left on the node after archiving: it
// verifies dir from the boundary's checkpoint (see Verify) and reports as
// Truncated records missing between the boundary and the directory's
// first record, such as an online segment deleted.
func VerifyOnline(dir string, verifiers []note.Verifier, b ArchiveBoundary) (*Report, error) {
	r, err := Verify(dir, verifiers, b.Checkpoint)
	if err != nil {
		return nil, err
	}
	if r.First > b.First { // the first bad position: before all others
		p := Problem{Kind: Truncated, Seq: b.First,
			Detail: fmt.Sprintf("the archive ends at record %d, the directory starts at %d", b.First, r.First)}
		r.Problems = append([]Problem{p}, r.Problems...)
	}
	return r, nil
}

// storedSpan is a segment object: an archived segment or a chunk.
type storedSpan struct {
	span
	bucket string
}

// storedSpans lists the segment objects of origin in record order: the
// archived segments, then the chunks after them.
func storedSpans(ctx context.Context, st objstore.Store, origin string) ([]storedSpan, error) {
	var out []storedSpan
	var archivedEnd uint64
	objs, err := st.List(ctx, objstore.Archive, origin+"/seg/")
	if err != nil {
		return nil, fmt.Errorf("list archive: %w", err)
	}
	for _, o := range objs {
		if first, end, _, ok := parseArchiveKey(origin, o.Key); ok {
			out = append(out, storedSpan{span{first, end, o.Key}, objstore.Archive})
			archivedEnd = max(archivedEnd, end)
		}
	}
	if objs, err = st.List(ctx, objstore.Audit, origin+"/seg/"); err != nil {
		return nil, fmt.Errorf("list audit objects: %w", err)
	}
	for _, o := range objs {
		if first, end, ok := parseChunkKey(origin, o.Key); ok && first >= archivedEnd {
			out = append(out, storedSpan{span{first, end, o.Key}, objstore.Audit})
		}
	}
	slices.SortFunc(out, func(a, b storedSpan) int { return int64cmp(a.first, b.first) })
	return out, nil
}

// fetchCheckpoints writes every shipped checkpoint of origin to dir's
// checkpoints file, in order, and returns how many, and the first that
// covers record first.
func fetchCheckpoints(ctx context.Context, st objstore.Store, origin, dir string,
	first uint64) (int, []byte, error) {
	objs, err := st.List(ctx, objstore.Audit, origin+"/cp/")
	if err != nil {
		return 0, nil, fmt.Errorf("list checkpoints: %w", err)
	}
	var buf bytes.Buffer
	var start []byte
	n := 0
	for _, o := range objs {
		if _, _, _, ok := parseCheckpointsKey(origin, o.Key); !ok {
			continue
		}
		b, _, err := st.Get(ctx, objstore.Audit, o.Key)
		if err != nil {
			return 0, nil, fmt.Errorf("read %s: %w", o.Key, err)
		}
		notes, torn := splitNotes(b)
		if torn != len(b) {
			return 0, nil, fmt.Errorf("%w: %s holds an incomplete checkpoint", ErrCorrupt, o.Key)
		}
		for _, note := range notes {
			if c, err := noteCheckpoint(note); err == nil && start == nil && c.Size > first {
				start = note
			}
		}
		buf.Write(b)
		n += len(notes)
	}
	if err := os.WriteFile(filepath.Join(dir, CheckpointsFile), buf.Bytes(), 0o600); err != nil {
		return 0, nil, fmt.Errorf("write checkpoints: %w", err)
	}
	return n, start, nil
}
