package audit

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/objstore"
)

// Object keys, under the log's origin (see "Archive" in the package doc).
func chunkKey(origin string, first, end uint64) string {
	return fmt.Sprintf("%s/seg/%020d-%020d", origin, first, end)
}

func archiveKey(origin string, first, end uint64, before time.Time) string {
	return fmt.Sprintf("%s/seg/%020d-%020d-%020d", origin, first, end, before.UnixMicro())
}

func checkpointsKey(origin string, first, last uint64, at time.Time) string {
	return fmt.Sprintf("%s/cp/%020d-%020d-%020d", origin, first, last, at.UnixMicro())
}

func boundaryKey(origin string, first uint64) string {
	return fmt.Sprintf("%s/boundary/%020d", origin, first)
}

func parseBoundaryKey(origin, key string) (first uint64, ok bool) {
	v, ok := parseNumbers(key, origin+"/boundary/", 1)
	if !ok {
		return 0, false
	}
	return v[0], true
}

// parseNumbers splits the name after prefix into n 20-digit numbers.
func parseNumbers(key, prefix string, n int) ([]uint64, bool) {
	rest, ok := strings.CutPrefix(key, prefix)
	if !ok || len(rest) != n*21-1 {
		return nil, false
	}
	out := make([]uint64, n)
	for i := range out {
		part := rest[i*21 : i*21+20]
		if i > 0 && rest[i*21-1] != '-' {
			return nil, false
		}
		v, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return nil, false
		}
		out[i] = v
	}
	return out, true
}

func parseChunkKey(origin, key string) (first, end uint64, ok bool) {
	v, ok := parseNumbers(key, origin+"/seg/", 2)
	if !ok || v[1] <= v[0] {
		return 0, 0, false
	}
	return v[0], v[1], true
}

func parseArchiveKey(origin, key string) (first, end uint64, before time.Time, ok bool) {
	v, ok := parseNumbers(key, origin+"/seg/", 3)
	if !ok || v[1] <= v[0] || v[2] > 1<<62 {
		return 0, 0, time.Time{}, false
	}
	return v[0], v[1], time.UnixMicro(int64(v[2])).UTC(), true
}

func parseCheckpointsKey(origin, key string) (first, last uint64, at time.Time, ok bool) {
	v, ok := parseNumbers(key, origin+"/cp/", 3)
	if !ok || v[0] == 0 || v[1] < v[0] || v[2] > 1<<62 {
		return 0, 0, time.Time{}, false
	}
	return v[0], v[1], time.UnixMicro(int64(v[2])).UTC(), true
}

// load finds where shipping stopped: after the last record and the last
// checkpoint object storage holds. It reports false when the directory
// has no segment yet.
func (a *Archiver) load(ctx context.Context) (bool, error) {
	segs, err := listSegments(a.dir)
	if err != nil || len(segs) == 0 {
		return false, err
	}
	chunks, err := a.opts.Store.List(ctx, objstore.Audit, a.opts.Origin+"/seg/")
	if err != nil {
		return false, fmt.Errorf("list audit objects: %w", err)
	}
	archived, err := a.opts.Store.List(ctx, objstore.Archive, a.opts.Origin+"/seg/")
	if err != nil {
		return false, fmt.Errorf("list archive: %w", err)
	}
	var archivedEnd, shipped uint64
	for _, o := range archived {
		if _, end, _, ok := parseArchiveKey(a.opts.Origin, o.Key); ok {
			archivedEnd = max(archivedEnd, end)
		}
	}
	shipped = archivedEnd
	a.chunks = nil
	for _, o := range chunks {
		first, end, ok := parseChunkKey(a.opts.Origin, o.Key)
		if !ok {
			continue
		}
		a.chunks = append(a.chunks, span{first: first, end: end, key: o.Key})
		shipped = max(shipped, end)
	}
	// Chunks an interrupted archiving left behind.
	if err := a.dropChunks(ctx, archivedEnd); err != nil {
		return false, err
	}
	if shipped < segs[0].first {
		if shipped > 0 || len(chunks)+len(archived) > 0 {
			a.opts.Logger.Warn("audit records missing from object storage",
				"first", shipped, "end", segs[0].first)
		}
		shipped = segs[0].first
	}
	if err := a.seek(segs, shipped); err != nil {
		return false, err
	}
	if err := a.loadCheckpoints(ctx); err != nil {
		return false, err
	}
	return true, nil
}

// seek sets the shipping position to record seq.
func (a *Archiver) seek(segs []segment, seq uint64) error {
	i := segmentOf(segs, seq)
	if i < 0 {
		return fmt.Errorf("%w: record %d is in no segment", ErrCorrupt, seq)
	}
	s := segs[i]
	f, rng, fr, err := openSegment(s.path)
	if err != nil {
		return fmt.Errorf("%w: segment %s: %w", ErrCorrupt, filepath.Base(s.path), err)
	}
	defer f.Close()
	th := newTreeHasher()
	if rng, err = th.rangeFrom(rng); err != nil {
		return err
	}
	for rng.End() < seq {
		n, rec, err := fr.next()
		if err != nil {
			return fmt.Errorf("%w: object storage holds record %d, segment %s ends at %d: %w",
				ErrCorrupt, seq-1, filepath.Base(s.path), rng.End(), err)
		}
		if n != rng.End() {
			return fmt.Errorf("%w: segment %s: found record %d, want %d", ErrCorrupt,
				filepath.Base(s.path), n, rng.End())
		}
		if err := rng.Append(th.leaf(rec), nil); err != nil {
			return err
		}
	}
	a.next, a.segAt, a.off = seq, s.first, fr.off
	a.rng, err = ranges.NewRange(0, rng.End(), cloneHashes(rng.Hashes()))
	return err
}

// loadCheckpoints finds the first checkpoint object storage lacks and its
// offset in the checkpoints file.
func (a *Archiver) loadCheckpoints(ctx context.Context) error {
	objs, err := a.opts.Store.List(ctx, objstore.Audit, a.opts.Origin+"/cp/")
	if err != nil {
		return fmt.Errorf("list checkpoints: %w", err)
	}
	var last uint64
	for _, o := range objs {
		if _, l, _, ok := parseCheckpointsKey(a.opts.Origin, o.Key); ok {
			last = max(last, l)
		}
	}
	a.cpNext, a.cpOff = last+1, 0
	if last == 0 {
		return nil
	}
	data, err := os.ReadFile(filepath.Join(a.dir, CheckpointsFile))
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	notes, _ := splitNotes(data)
	var off int64
	for _, n := range notes {
		off += int64(len(n))
		c, err := noteCheckpoint(n)
		if err != nil {
			return err
		}
		if c.Number == last {
			a.cpOff = off
			return nil
		}
	}
	return fmt.Errorf("%w: object storage holds checkpoint %d, the directory does not", ErrCorrupt, last)
}
