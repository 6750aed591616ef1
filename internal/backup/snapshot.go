package backup

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/store"
)

// Snapshot exports the store from one read transaction, in parts of about
// 4 MiB before compression, each compressed and sealed, then writes the
// manifest that makes the snapshot complete. Parts are uploaded while the
// export runs.
func (s *Shipper) Snapshot(ctx context.Context) (SnapshotInfo, error) {
	var (
		start   time.Time
		dir     string
		buf     bytes.Buffer
		enc     = json.NewEncoder(&buf)
		parts   []manifestPart
		rows    = make(map[string]int64)
		pos0    int64
		scratch = make([]byte, 0, 1024)
		n       int64
		total   int64
	)
	header := func() {
		enc.Encode(partHeader{Format: partFormat, Pos: pos0, Index: len(parts)})
	}
	flush := func() error {
		name := partName(dir, len(parts))
		sealed, err := seal(ctx, s.ks, s.id, name, buf.Bytes())
		if err != nil {
			return err
		}
		if _, err := s.obj.Put(ctx, objstore.Backups, key(s.id, name), sealed, objstore.StandardIA); err != nil {
			return err
		}
		parts = append(parts, manifestPart{Name: name, Rows: n})
		total += int64(len(sealed))
		buf.Reset()
		n = 0
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
