package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/store"
)

// Snapshot exports the store from one read transaction, in parts of about
// 4 MiB before compression, each compressed and sealed, then writes the
// manifest that makes the snapshot complete. Two goroutines compress, seal
// and upload parts while the export reads on.
func (s *Shipper) Snapshot(ctx context.Context) (SnapshotInfo, error) {
	var (
		start   time.Time
		dir     string
		pos0    int64
		buf     = new(bytes.Buffer)
		parts   []manifestPart
		rows    = make(map[string]int64)
		scratch = make([]byte, 0, 1024)
		n       int64
	)
	up := s.newUploader(ctx)
	header := func() {
		json.NewEncoder(buf).Encode(partHeader{Format: partFormat, Pos: pos0, Index: len(parts)})
	}
	flush := func() error {
		name := partName(dir, len(parts))
		parts = append(parts, manifestPart{Name: name, Rows: n})
		if err := up.send(name, buf.Bytes()); err != nil {
			return err
		}
		buf, n = new(bytes.Buffer), 0
		header()
		return nil
	}
	begin := func(pos int64) error {
		// Every change up to pos committed before the read began, so its
		// time is at or before start.
		start = s.now()
		pos0, dir = pos, snapshotDir(pos, start)
		header()
		return nil
	}
	pos, err := s.st.Export(ctx, begin, func(r store.Row) error {
		buf.Write(appendRecord(scratch[:0], r.Table, r.Data))
		rows[r.Table]++
		n++
		if buf.Len() >= partPlainSize {
			return flush()
		}
		return nil
	})
	if err == nil && (n > 0 || len(parts) == 0) {
		err = flush()
	}
	total, uerr := up.wait()
	if err == nil {
		err = uerr
	}
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}

	m := manifest{Format: manifestFormat, Deployment: s.id, Pos: pos, TakenAt: start.UnixMicro(),
		Engine: s.st.DB().Engine(), Parts: parts, Rows: rows}
	b, err := json.Marshal(m)
	if err != nil {
		return SnapshotInfo{}, err
	}
	name := manifestName(dir)
	sealed, err := seal(ctx, s.ks, s.id, name, b)
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	if _, err := s.obj.Put(ctx, objstore.Backups, key(s.id, name), sealed, objstore.StandardIA); err != nil {
		return SnapshotInfo{}, fmt.Errorf("snapshot: %w", err)
	}
	s.mu.Lock()
	s.lastSnapshot = start
	s.mu.Unlock()
	return SnapshotInfo{Dir: dir, Pos: pos, TakenAt: start, Parts: len(parts), Bytes: total + int64(len(sealed))}, nil
}

// uploader compresses, seals and uploads snapshot parts on two goroutines.
type uploader struct {
	ctx    context.Context
	cancel context.CancelFunc
	jobs   chan uploadJob
	wg     sync.WaitGroup
	mu     sync.Mutex
	err    error
	total  int64
}

type uploadJob struct {
	name  string
	plain []byte
}

func (s *Shipper) newUploader(ctx context.Context) *uploader {
	u := &uploader{jobs: make(chan uploadJob)}
	u.ctx, u.cancel = context.WithCancel(ctx)
	for range 2 {
		u.wg.Add(1)
		go func() {
			defer u.wg.Done()
			for j := range u.jobs {
				if u.ctx.Err() != nil {
					continue
				}
				err := s.putSealed(u.ctx, j.name, j.plain, objstore.StandardIA, &u.total, &u.mu)
				if err != nil {
					u.mu.Lock()
					if u.err == nil {
						u.err = err
					}
					u.mu.Unlock()
					u.cancel()
				}
			}
		}()
	}
	return u
}

// send queues a part; it fails once an upload has failed.
func (u *uploader) send(name string, plain []byte) error {
	select {
	case u.jobs <- uploadJob{name, plain}:
		return nil
	case <-u.ctx.Done():
		u.mu.Lock()
		defer u.mu.Unlock()
		if u.err != nil {
			return u.err
		}
		return u.ctx.Err()
	}
}

// wait finishes the uploads and returns the bytes written.
func (u *uploader) wait() (int64, error) {
	close(u.jobs)
	u.wg.Wait()
	u.cancel()
	return u.total, u.err
}

// putSealed compresses, seals and stores one object and adds its size to
// total under mu.
func (s *Shipper) putSealed(ctx context.Context, name string, plain []byte, class objstore.Class,
	total *int64, mu *sync.Mutex) error {
	sealed, err := seal(ctx, s.ks, s.id, name, plain)
	if err != nil {
		return err
	}
	if _, err := s.obj.Put(ctx, objstore.Backups, key(s.id, name), sealed, class); err != nil {
		return err
	}
	mu.Lock()
	*total += int64(len(sealed))
	mu.Unlock()
	return nil
}

// SnapshotKeystore uploads the keystore's current state and then deletes
// the older keystore snapshots, so a destroyed key leaves the backups at
// the next keystore snapshot. The keystore snapshot holds keys only in
// wrapped form; it is compressed but not sealed, because the keys that
// would seal it are inside it.
func (s *Shipper) SnapshotKeystore(ctx context.Context) error {
	gen, err := s.ks.Generation(ctx)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	zw, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedFastest))
	if err != nil {
		return err
	}
	if err := s.ks.Snapshot(ctx, zw); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	at := s.now()
	name := key(s.id, keystoreName(at))
	info, err := s.obj.Put(ctx, objstore.Backups, name, buf.Bytes(), objstore.Standard)
	if err != nil {
		return fmt.Errorf("keystore snapshot: %w", err)
	}
	// Read it back before the older ones go: the newest keystore snapshot
	// is the only one a restore uses.
	got, err := s.obj.Stat(ctx, objstore.Backups, name)
	if err != nil || got.SHA256 != info.SHA256 {
		return fmt.Errorf("keystore snapshot: not readable after upload: %v", err)
	}
	list, err := s.obj.List(ctx, objstore.Backups, key(s.id, "keystore/"))
	if err != nil {
		return fmt.Errorf("keystore snapshot: %w", err)
	}
	for _, o := range list {
		if o.Key < name {
			if err := s.obj.Delete(ctx, objstore.Backups, o.Key); err != nil {
				return fmt.Errorf("keystore snapshot: %w", err)
			}
		}
	}
	s.mu.Lock()
	s.ksGen, s.lastKeystore = gen, at
	s.mu.Unlock()
	return nil
}
