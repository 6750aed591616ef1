package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/transparency-dev/merkle/compact"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/objstore"
)

// Sealer seals and opens the segments the archiver writes to object
// storage. *keys.Keystore implements it.
type Sealer interface {
	SealFor(ctx context.Context, d envelope.Domain, owner string, b envelope.Binding,
		plaintext []byte) ([]byte, error)
	Open(ctx context.Context, sealed []byte, b envelope.Binding) ([]byte, error)
}

// Defaults of ArchiveOptions.
const (
	DefaultShipEvery = time.Minute
	DefaultOnline    = 90 * 24 * time.Hour
	DefaultRetention = 365 * 24 * time.Hour
)

// maxChunk bounds the frames of one shipped chunk.
const maxChunk = 16 << 20

// ArchiveOptions configure an Archiver. Store, Sealer and Origin are
// required.
type ArchiveOptions struct {
	Store  objstore.Store
	Sealer Sealer
	// Origin is the log's origin; its objects are kept under it.
	Origin string
	// Every is the interval of Run's passes (default DefaultShipEvery).
	Every time.Duration
	// Online is how long records stay in the audit directory (default
	// DefaultOnline); Retention how long they are kept at all (default
	// DefaultRetention). Retention must not be shorter than Online.
	Online, Retention time.Duration
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Archiver copies a log directory's records and checkpoints to object
// storage, moves segments older than Online there and deletes what is
// older than Retention (see "Archive" in the package doc). It reads the
// directory's files and needs no open Log: it runs beside the Log that
// appends, or after it closed. One Archiver per origin.
type Archiver struct {
	dir  string
	opts ArchiveOptions

	loaded bool
	next   uint64         // first record not yet shipped
	rng    *compact.Range // the records before next
	segAt  uint64         // the segment holding next, and next's offset in it
	off    int64
	cpNext uint64 // first checkpoint number not yet shipped
	cpOff  int64  // its offset in the checkpoints file
	chunks []span // chunks in the audit bucket
}

// span is a record range [first, end) held by one object.
type span struct {
	first, end uint64
	key        string
}

// NewArchiver returns an archiver of the log in dir.
func NewArchiver(dir string, opts ArchiveOptions) (*Archiver, error) {
	if opts.Store == nil || opts.Sealer == nil {
		return nil, errors.New("audit archive: no object store or sealer")
	}
	if !objstore.ValidKey(opts.Origin + "/seg") {
		return nil, fmt.Errorf("audit archive: origin %q cannot name objects", opts.Origin)
	}
	if opts.Every <= 0 {
		opts.Every = DefaultShipEvery
	}
	if opts.Online <= 0 {
		opts.Online = DefaultOnline
	}
	if opts.Retention <= 0 {
		opts.Retention = DefaultRetention
	}
	if opts.Retention < opts.Online {
		return nil, fmt.Errorf("audit archive: retention %s is shorter than the online period %s",
			opts.Retention, opts.Online)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Archiver{dir: dir, opts: opts}, nil
}

// Run calls Sync every ArchiveOptions.Every until ctx ends, logging what
// fails; a failed pass is tried again at the next one.
func (a *Archiver) Run(ctx context.Context) {
	t := time.NewTicker(a.opts.Every)
	defer t.Stop()
	for {
		if err := a.Sync(ctx); err != nil && ctx.Err() == nil {
			a.opts.Logger.Warn("archive audit trail", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sync makes one pass: it ships the records covered by the latest
// checkpoint, then the checkpoints, then moves segments that went
// offline and deletes what passed retention.
func (a *Archiver) Sync(ctx context.Context) error {
	if !a.loaded {
		ok, err := a.load(ctx)
		if err != nil || !ok {
			return err
		}
		a.loaded = true
	}
	data, err := a.readCheckpoints()
	if err != nil {
		return err
	}
	notes, _ := splitNotes(data)
	var upTo uint64
	if len(notes) > 0 {
		c, err := noteCheckpoint(notes[len(notes)-1])
		if err != nil {
			return err
		}
		upTo = c.Size
	}
	if err := a.shipRecords(ctx, upTo); err != nil {
		return err
	}
	if err := a.shipCheckpoints(ctx, notes); err != nil {
		return err
	}
	if err := a.archiveSegments(ctx); err != nil {
		return err
	}
	return a.expire(ctx)
}

func noteCheckpoint(n []byte) (Checkpoint, error) {
	text, _, _ := cutNote(n)
	c, err := ParseCheckpoint(text)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: checkpoints file: %w", ErrCorrupt, err)
	}
	return c, nil
}

// readCheckpoints returns the checkpoints file from the first checkpoint
// not yet shipped.
func (a *Archiver) readCheckpoints() ([]byte, error) {
	f, err := os.Open(filepath.Join(a.dir, CheckpointsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(a.cpOff, io.SeekStart); err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	data, err := io.ReadAll(f)
	if err != nil {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	return data, nil
}

// shipRecords uploads the records from a.next to upTo as sealed chunks,
// each a segment of its own that lies within one local segment.
func (a *Archiver) shipRecords(ctx context.Context, upTo uint64) error {
	for a.next < upTo {
		segs, err := listSegments(a.dir)
		if err != nil {
			return err
		}
		i := segmentOf(segs, a.next)
		if i < 0 {
			return fmt.Errorf("%w: record %d is in no segment", ErrCorrupt, a.next)
		}
		if segs[i].first != a.segAt {
			if segs[i].first != a.next {
				return fmt.Errorf("%w: segment %s starts inside the records shipped", ErrCorrupt,
					filepath.Base(segs[i].path))
			}
			if err := a.enter(segs[i]); err != nil {
				return err
			}
		}
		end := upTo
		if i+1 < len(segs) {
			end = min(end, segs[i+1].first)
		}
		if err := a.shipChunk(ctx, segs[i], end); err != nil {
			return err
		}
	}
	return nil
}

// segmentOf returns the index of the last segment starting at or before
// seq, or -1.
func segmentOf(segs []segment, seq uint64) int {
	i := -1
	for j, s := range segs {
		if s.first <= seq {
			i = j
		}
	}
	return i
}

// enter moves the shipping position to the start of s, which must
// continue the records shipped.
func (a *Archiver) enter(s segment) error {
	f, rng, fr, err := openSegment(s.path)
	if err != nil {
		return fmt.Errorf("%w: segment %s: %w", ErrCorrupt, filepath.Base(s.path), err)
	}
	f.Close()
	if rng.End() != a.next || !sameRange(rng, a.rng) {
		return fmt.Errorf("%w: segment %s does not continue the log", ErrCorrupt, filepath.Base(s.path))
	}
	a.segAt, a.off = s.first, fr.off
	return nil
}

// shipChunk uploads the records of s from a.next up to end, at most
// maxChunk bytes of them.
func (a *Archiver) shipChunk(ctx context.Context, s segment, end uint64) error {
	if s.first != a.segAt {
		return fmt.Errorf("audit archive: lost the position in segment %s", filepath.Base(s.path))
	}
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	defer f.Close()
	if _, err := f.Seek(a.off, io.SeekStart); err != nil {
		return fmt.Errorf("read segment: %w", err)
	}
	fr := &frameReader{r: bufio.NewReaderSize(f, 1<<16), off: a.off}
	th := newTreeHasher()
	rng, err := th.rangeFrom(a.rng)
	if err != nil {
		return err
	}
	body := segHeader(a.next, rng.Hashes())
	seq := a.next
	for seq < end && len(body) < maxChunk {
		n, rec, err := fr.next()
		if err != nil {
			return fmt.Errorf("%w: segment %s at record %d: %w", ErrCorrupt, filepath.Base(s.path), seq, err)
		}
		if n != seq {
			return fmt.Errorf("%w: segment %s: found record %d, want %d", ErrCorrupt, filepath.Base(s.path), n, seq)
		}
		body = appendFrame(body, seq, rec)
		if err := rng.Append(th.leaf(rec), nil); err != nil {
			return err
		}
		seq++
	}
	key := chunkKey(a.opts.Origin, a.next, seq)
	if err := a.put(ctx, objstore.Audit, key, body, objstore.Standard); err != nil {
		return err
	}
	a.chunks = append(a.chunks, span{first: a.next, end: seq, key: key})
	a.next, a.off = seq, fr.off
	a.rng, err = ranges.NewRange(0, rng.End(), cloneHashes(rng.Hashes()))
	return err
}

// put seals data for bucket/key and stores it.
func (a *Archiver) put(ctx context.Context, bucket, key string, data []byte, class objstore.Class) error {
	b := archiveBinding(a.opts.Origin, bucket, key)
	sealed, err := a.opts.Sealer.SealFor(ctx, envelope.Backup, a.owner(), b, data)
	if err != nil {
		return fmt.Errorf("seal %s: %w", key, err)
	}
	if _, err := a.opts.Store.Put(ctx, bucket, key, sealed, class); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

func (a *Archiver) owner() string { return ArchiveOwner(a.opts.Origin) }

// ArchiveOwner is the keystore owner of the data key, in the backup
// domain, that seals the objects of the log origin. It must have an
// active data key before the archiver runs.
func ArchiveOwner(origin string) string { return "audit:" + origin }

// archiveBinding ties a sealed object to its log, bucket and key, so an
// object moved to another name does not open.
func archiveBinding(origin, bucket, key string) envelope.Binding {
	return envelope.Binding{Table: "audit", Column: origin, Row: bucket + "/" + key}
}

// shipCheckpoints uploads the checkpoints not yet shipped as one object.
// notes is the checkpoints file from a.cpOff on.
func (a *Archiver) shipCheckpoints(ctx context.Context, notes [][]byte) error {
	if len(notes) == 0 {
		return nil
	}
	first, err := noteCheckpoint(notes[0])
	if err != nil {
		return err
	}
	last, err := noteCheckpoint(notes[len(notes)-1])
	if err != nil {
		return err
	}
	if first.Number != a.cpNext {
		return fmt.Errorf("%w: checkpoint %d where %d was expected", ErrCorrupt, first.Number, a.cpNext)
	}
	body := bytes.Join(notes, nil)
	key := checkpointsKey(a.opts.Origin, first.Number, last.Number, last.Time)
	if _, err := a.opts.Store.Put(ctx, objstore.Audit, key, body, objstore.Standard); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	a.cpNext, a.cpOff = last.Number+1, a.cpOff+int64(len(body))
	return nil
}

// archiveSegments moves each closed segment whose records are all older
// than the online period to the archive bucket, and removes it locally
// once the stored copy has been read back and matches.
func (a *Archiver) archiveSegments(ctx context.Context) error {
	cutoff := a.opts.Now().Add(-a.opts.Online)
	for {
		segs, err := listSegments(a.dir)
		if err != nil {
			return err
		}
		if len(segs) < 2 || segs[1].first > a.next {
			return nil // the segment is open or not shipped yet
		}
		before, ok := firstTime(segs[1].path)
		if !ok || !before.Before(cutoff) {
			return nil
		}
		if err := a.archiveSegment(ctx, segs[0], segs[1].first, before); err != nil {
			return err
		}
	}
}

// archiveSegment moves the segment s, holding records up to end, all
// older than before.
func (a *Archiver) archiveSegment(ctx context.Context, s segment, end uint64, before time.Time) error {
	data, err := os.ReadFile(s.path)
	if err != nil {
		return fmt.Errorf("read segment: %w", err)
	}
	key := archiveKey(a.opts.Origin, s.first, end, before)
	if err := a.put(ctx, objstore.Archive, key, data, objstore.GlacierIR); err != nil {
		return err
	}
	back, err := a.get(ctx, objstore.Archive, key)
	if err != nil {
		return err
	}
	if !bytes.Equal(back, data) {
		return fmt.Errorf("audit archive: %s reads back different bytes", key)
	}
	if err := a.putBoundary(ctx, end); err != nil {
		return err
	}
	if err := os.Remove(s.path); err != nil {
		return fmt.Errorf("remove archived segment: %w", err)
	}
	if err := (osFS{}).SyncDir(a.dir); err != nil {
		return fmt.Errorf("sync audit directory: %w", err)
	}
	a.opts.Logger.Info("archived audit segment", "first", s.first, "end", end, "key", key)
	return a.dropChunks(ctx, end)
}

// get reads and opens a sealed object.
func (a *Archiver) get(ctx context.Context, bucket, key string) ([]byte, error) {
	return getSealed(ctx, a.opts.Store, a.opts.Sealer, a.opts.Origin, bucket, key)
}

func getSealed(ctx context.Context, st objstore.Store, s Sealer, origin, bucket, key string) ([]byte, error) {
	sealed, _, err := st.Get(ctx, bucket, key)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", key, err)
	}
	plain, err := s.Open(ctx, sealed, archiveBinding(origin, bucket, key))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", key, err)
	}
	return plain, nil
}

// putBoundary stores the first checkpoint that covers record first, the
// first record left online, under a name that holds first, so that
// VerifyOnline can check that the online part starts where the archive
// ends.
func (a *Archiver) putBoundary(ctx context.Context, first uint64) error {
	data, err := os.ReadFile(filepath.Join(a.dir, CheckpointsFile))
	if err != nil {
		return fmt.Errorf("read checkpoints: %w", err)
	}
	notes, _ := splitNotes(data)
	i := sort.Search(len(notes), func(i int) bool {
		c, err := noteCheckpoint(notes[i])
		return err != nil || c.Size > first
	})
	if i == len(notes) {
		return fmt.Errorf("%w: no checkpoint covers record %d", ErrCorrupt, first)
	}
	if _, err := noteCheckpoint(notes[i]); err != nil {
		return err
	}
	key := boundaryKey(a.opts.Origin, first)
	if _, err := a.opts.Store.Put(ctx, objstore.Audit, key, notes[i], objstore.Standard); err != nil {
		return fmt.Errorf("store %s: %w", key, err)
	}
	older, err := a.opts.Store.List(ctx, objstore.Audit, a.opts.Origin+"/boundary/")
	if err != nil {
		return fmt.Errorf("list boundaries: %w", err)
	}
	for _, o := range older {
		if f, ok := parseBoundaryKey(a.opts.Origin, o.Key); ok && f < first {
			if err := a.opts.Store.Delete(ctx, objstore.Audit, o.Key); err != nil {
				return fmt.Errorf("delete %s: %w", o.Key, err)
			}
		}
	}
	return nil
}

// dropChunks deletes the chunks of records before end from the audit
// bucket: the archive holds them now.
func (a *Archiver) dropChunks(ctx context.Context, end uint64) error {
	keep := a.chunks[:0]
	for _, c := range a.chunks {
		if c.end > end {
			keep = append(keep, c)
			continue
		}
		if err := a.opts.Store.Delete(ctx, objstore.Audit, c.key); err != nil {
			a.chunks = append(keep, a.chunks[len(keep):]...)
			return fmt.Errorf("delete %s: %w", c.key, err)
		}
	}
	a.chunks = keep
	return nil
}

// expire deletes archived segments and shipped checkpoints whose every
// record or checkpoint is older than the retention period.
func (a *Archiver) expire(ctx context.Context) error {
	cutoff := a.opts.Now().Add(-a.opts.Retention)
	segs, err := a.opts.Store.List(ctx, objstore.Archive, a.opts.Origin+"/seg/")
	if err != nil {
		return fmt.Errorf("list archive: %w", err)
	}
	for _, o := range segs {
		if _, _, before, ok := parseArchiveKey(a.opts.Origin, o.Key); ok && !before.After(cutoff) {
			if err := a.opts.Store.Delete(ctx, objstore.Archive, o.Key); err != nil {
				return fmt.Errorf("delete %s: %w", o.Key, err)
			}
		}
	}
	cps, err := a.opts.Store.List(ctx, objstore.Audit, a.opts.Origin+"/cp/")
	if err != nil {
		return fmt.Errorf("list checkpoints: %w", err)
	}
	// The newest object stays: it tells a restarted archiver where to go on.
	for i, o := range cps {
		if i == len(cps)-1 {
			break
		}
		if _, _, at, ok := parseCheckpointsKey(a.opts.Origin, o.Key); ok && at.Before(cutoff) {
			if err := a.opts.Store.Delete(ctx, objstore.Audit, o.Key); err != nil {
				return fmt.Errorf("delete %s: %w", o.Key, err)
			}
		}
	}
	return nil
}
