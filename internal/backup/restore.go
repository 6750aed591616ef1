package backup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/store"
)

// RestoreOptions say what to restore and where.
type RestoreOptions struct {
	Objects    objstore.Store
	Deployment string
	// To is the point in time; zero means the latest shipped change.
	To time.Time
	// ToPos, when positive, restores exactly up to this change position
	// instead, and fails with ErrBehind if the backups do not reach it.
	ToPos int64
	// Target is a new, empty database of either engine.
	Target sqldb.DB
	// Provider returns the root key provider for the target database,
	// which must hold the root key that wrapped the keystore snapshot.
	Provider func(sqldb.DB) (keys.Provider, error)
	// Progress, when set, is called as snapshot parts and segments are
	// applied.
	Progress func(done, total int64)
}

// Summary says what a restore did.
type Summary struct {
	Deployment string
	Snapshot   string
	// SnapshotPos is the snapshot's change position; Pos the position the
	// restore reached.
	SnapshotPos int64
	Pos         int64
	// LastChange is the commit time of the last change applied (or of the
	// snapshot when no change followed).
	LastChange time.Time
	Segments   int
	Changes    int64
	Rows       map[string]int64
	Keystore   string
	Elapsed    time.Duration
}

// Restore builds a new database from the backups: the newest keystore
// snapshot, then the newest snapshot at or before the target, then the
// segments after it, change by change, up to the target. It never touches
// another database than Target and refuses one that holds data. A damaged,
// foreign, moved or missing object stops it with a *SegmentError naming
// the object.
//
// Restoring to a time T gives the state after the longest run of changes,
// in log order, whose commit times are all at or before T.
func Restore(ctx context.Context, o RestoreOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Deployment: o.Deployment}
	cat, err := ReadCatalog(ctx, o.Objects, o.Deployment)
	if err != nil {
		return sum, err
	}
	snap, err := pickSnapshot(cat, o.To, o.ToPos)
	if err != nil {
		return sum, err
	}
	sum.Snapshot, sum.SnapshotPos, sum.LastChange = snap.Dir, snap.Pos, snap.TakenAt

	loader, err := store.NewLoader(ctx, o.Target)
	if errors.Is(err, store.ErrNotEmpty) {
		return sum, ErrTargetExists
	}
	if err != nil {
		return sum, err
	}
	ks, ksName, err := restoreKeystore(ctx, o, cat)
	if err != nil {
		return sum, err
	}
	defer ks.Close()
	sum.Keystore = ksName

	m, err := readManifest(ctx, o.Objects, ks, o.Deployment, snap)
	if err != nil {
		return sum, err
	}
	segs := segmentsAfter(cat, snap.Pos)
	total := int64(len(m.Parts) + len(segs))
	var done int64
	step := func() {
		done++
		if o.Progress != nil {
			o.Progress(done, total)
		}
	}
	if err := loader.DeferIndexes(ctx); err != nil {
		return sum, err
	}
	if err := loadParts(ctx, o.Objects, ks, o.Deployment, snap, m, loader, step); err != nil {
		return sum, err
	}
	if err := loader.RebuildIndexes(ctx); err != nil {
		return sum, &SegmentError{Name: snap.Dir, Err: err}
	}
	sum.Rows = m.Rows

	r := replay{o: o, ks: ks, loader: loader, cur: snap.Pos, sum: &sum}
	if err := r.run(ctx, segs, step); err != nil {
		return sum, err
	}
	if o.ToPos > 0 && r.cur < o.ToPos {
		return sum, fmt.Errorf("%w: reached %d of %d", ErrBehind, r.cur, o.ToPos)
	}
	// A newer complete snapshot inside the target proves changes were
	// shipped past where the segments ran out.
	for _, s := range cat.Snapshots {
		if s.Pos > r.cur && (o.To.IsZero() || !s.TakenAt.After(o.To)) && (o.ToPos == 0 || s.Pos <= o.ToPos) {
			return sum, &SegmentError{Name: fmt.Sprintf("seg/%020d-", r.cur+1), Err: ErrMissing}
		}
	}
	if err := loader.Finish(ctx, r.cur); err != nil {
		return sum, err
	}
	sum.Pos = r.cur
	if sum.Rows, err = store.Count(ctx, o.Target); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func pickSnapshot(cat *Catalog, to time.Time, toPos int64) (SnapshotInfo, error) {
	for i := len(cat.Snapshots) - 1; i >= 0; i-- {
		s := cat.Snapshots[i]
		if (to.IsZero() || !s.TakenAt.After(to)) && (toPos <= 0 || s.Pos <= toPos) {
			return s, nil
		}
	}
	return SnapshotInfo{}, ErrNoSnapshot
}

func segmentsAfter(cat *Catalog, pos int64) []SegmentInfo {
	var out []SegmentInfo
	for _, s := range cat.Segments {
		if s.Last > pos {
			out = append(out, s)
		}
	}
	return out
}

// maxKeystoreSnapshot bounds a decompressed keystore snapshot.
const maxKeystoreSnapshot = 1 << 30

// restoreKeystore loads the newest keystore snapshot into the target and
// opens a keystore on it.
func restoreKeystore(ctx context.Context, o RestoreOptions, cat *Catalog) (*keys.Keystore, string, error) {
	if len(cat.Keystores) == 0 {
		return nil, "", &SegmentError{Name: "keystore/", Err: ErrMissing}
	}
	newest := cat.Keystores[len(cat.Keystores)-1]
	b, _, err := o.Objects.Get(ctx, objstore.Backups, newest.Key)
	if err != nil {
		return nil, "", &SegmentError{Name: newest.Key, Err: err}
	}
	zr, err := zstd.NewReader(bytes.NewReader(b), zstd.WithDecoderMaxMemory(maxKeystoreSnapshot))
	if err != nil {
		return nil, "", err
	}
	defer zr.Close()
	if err := keys.RestoreSnapshot(ctx, o.Target, io.LimitReader(zr, maxKeystoreSnapshot)); err != nil {
		return nil, "", &SegmentError{Name: newest.Key, Err: err}
	}
	p, err := o.Provider(o.Target)
	if err != nil {
		return nil, "", err
	}
	ks, err := keys.Open(ctx, o.Target, p, keys.Config{})
	if err != nil {
		return nil, "", fmt.Errorf("open the restored keystore: %w", err)
	}
	return ks, newest.Key, nil
}

func readManifest(ctx context.Context, obj objstore.Store, ks Sealer, dep string, snap SnapshotInfo) (manifest, error) {
	name := manifestName(snap.Dir)
	plain, err := fetch(ctx, obj, ks, dep, name)
	if err != nil {
		return manifest{}, err
	}
	var m manifest
	if err := strict(plain, &m); err != nil || m.Format != manifestFormat || m.Deployment != dep ||
		m.Pos != snap.Pos || m.TakenAt != snap.TakenAt.UnixMicro() || len(m.Parts) > maxParts {
		return manifest{}, &SegmentError{Name: name, Err: ErrCorrupt}
	}
	for i, p := range m.Parts {
		if p.Name != partName(snap.Dir, i) {
			return manifest{}, &SegmentError{Name: name, Err: ErrCorrupt}
		}
	}
	return m, nil
}

// fetch gets, opens and decompresses one sealed object.
func fetch(ctx context.Context, obj objstore.Store, ks Sealer, dep, name string) ([]byte, error) {
	sealed, _, err := obj.Get(ctx, objstore.Backups, key(dep, name))
	if errors.Is(err, objstore.ErrNotFound) {
		return nil, &SegmentError{Name: name, Err: ErrMissing}
	}
	if errors.Is(err, objstore.ErrChecksum) {
		return nil, &SegmentError{Name: name, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	if err != nil {
		return nil, &SegmentError{Name: name, Err: err}
	}
	return open(ctx, ks, dep, name, sealed)
}

// loadParts fetches, opens, decompresses and decodes parts on several
// goroutines while the loader inserts them, about 64k rows per
// transaction.
func loadParts(ctx context.Context, obj objstore.Store, ks Sealer, dep string, snap SnapshotInfo, m manifest,
	loader *store.Loader, step func()) error {
	type result struct {
		batch *store.Batch
		err   error
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan int)
	results := make(chan result, 4)
	workers := min(max(runtime.GOMAXPROCS(0), 2), 4)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				b, err := preparePart(ctx, obj, ks, dep, snap, i, m.Parts[i])
				select {
				case results <- result{b, err}:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range m.Parts {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer wg.Wait()

	const rowsPerTx = 1 << 16
	var pending []*store.Batch
	rows := 0
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		if err := loader.Load(ctx, pending...); err != nil {
			return &SegmentError{Name: snap.Dir, Err: err}
		}
		for range pending {
			step()
		}
		pending, rows = pending[:0], 0
		return nil
	}
	for range m.Parts {
		r := <-results
		if r.err != nil {
			return r.err
		}
		pending = append(pending, r.batch)
		if rows += r.batch.Len(); rows >= rowsPerTx {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

func preparePart(ctx context.Context, obj objstore.Store, ks Sealer, dep string, snap SnapshotInfo, i int,
	p manifestPart) (*store.Batch, error) {
	plain, err := fetch(ctx, obj, ks, dep, p.Name)
	if err != nil {
		return nil, err
	}
	b, err := decodePart(p.Name, snap.Pos, i, plain)
	if err != nil {
		return nil, err
	}
	if int64(b.Len()) != p.Rows {
		return nil, &SegmentError{Name: p.Name, Err: fmt.Errorf("%w: row count", ErrCorrupt)}
	}
	return b, nil
}

// replay applies segments after the snapshot up to the target.
type replay struct {
	o      RestoreOptions
	ks     Sealer
	loader *store.Loader
	cur    int64
	sum    *Summary
}

func (r *replay) run(ctx context.Context, segs []SegmentInfo, step func()) error {
	for _, seg := range segs {
		if seg.Last <= r.cur {
			step()
			continue
		}
		if seg.First > r.cur+1 {
			return &SegmentError{Name: fmt.Sprintf("seg/%020d-%020d", r.cur+1, seg.First-1), Err: ErrMissing}
		}
		plain, err := fetch(ctx, r.o.Objects, r.ks, r.o.Deployment, seg.Name)
		if err != nil {
			return err
		}
		cs, err := decodeSegment(r.o.Deployment, seg.Name, plain)
		if err != nil {
			return err
		}
		var apply []store.Change
		stop := false
		for _, c := range cs {
			if c.Pos <= r.cur {
				continue
			}
			if r.o.ToPos > 0 && c.Pos > r.o.ToPos || r.o.ToPos <= 0 && !r.o.To.IsZero() && c.At.After(r.o.To) {
				stop = true
				break
			}
			apply = append(apply, c)
		}
		if len(apply) > 0 {
			if err := r.loader.Apply(ctx, apply); err != nil {
				return &SegmentError{Name: seg.Name, Err: err}
			}
			r.cur = apply[len(apply)-1].Pos
			r.sum.LastChange = apply[len(apply)-1].At
			r.sum.Changes += int64(len(apply))
			r.sum.Segments++
		}
		step()
		if stop {
			return nil
		}
	}
	return nil
}
