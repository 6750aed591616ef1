package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

// Rotate adds a new version of domain d's KEK and makes it active; the
// previous active version becomes decrypt-only. It returns the new version.
func (k *Keystore) Rotate(ctx context.Context, d Domain) (uint32, error) {
	if !d.Valid() {
		return 0, fmt.Errorf("rotate: unknown domain %d", d)
	}
	var version uint32
	now := k.cfg.Now()
	err := k.db.Write(ctx, func(tx sqldb.Tx) error {
		rid, err := lockRootID(ctx, tx)
		if err != nil {
			return err
		}
		if rid != k.rootID() {
			return errRootChanged
		}
		var cur int64
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM ks_keks WHERE domain = ?",
			int64(d)).Scan(&cur); err != nil {
			return err
		}
		version = uint32(cur) + 1
		if _, err := tx.Exec(ctx, "UPDATE ks_keks SET state = ?, state_at = ? WHERE domain = ? AND state = ?",
			int64(DecryptOnly), sqldb.Micros(now), int64(d), int64(Active)); err != nil {
			return err
		}
		return k.insertKEK(ctx, tx, d, version, now)
	})
	if err != nil {
		return 0, fmt.Errorf("rotate %s: %w", d, err)
	}
	if err := k.Refresh(ctx); err != nil {
		return 0, err
	}
	if err := k.drainPool(ctx, d); err != nil {
		return version, err
	}
	k.log.Info("rotated key-encryption key", "domain", d.String(), "version", version)
	return version, nil
}

var errRootChanged = errors.New("keys: the root key was rotated since this node loaded it; restart securecart")

// lockRootID locks the root_id meta row for the rest of tx and returns its
// value. Transactions that wrap keys under the root key take this lock
// first, so that on PostgreSQL a KEK rotation and a root rotation cannot
// interleave and leave a KEK wrapped under a root key that is gone.
func lockRootID(ctx context.Context, tx sqldb.Tx) (string, error) {
	n, err := tx.Exec(ctx, "UPDATE ks_meta SET value = value WHERE name = ?", metaRootID)
	if err != nil {
		return "", err
	}
	if n != 1 {
		// A root rotation replaced the row while this transaction waited.
		return "", errRootChanged
	}
	var v []byte
	if err := tx.QueryRow(ctx, "SELECT value FROM ks_meta WHERE name = ?", metaRootID).Scan(&v); err != nil {
		return "", err
	}
	return string(v), nil
}

// drainPool drops the pooled data keys of d, which were wrapped under the
// previous version, so that new owners get keys under the new one.
func (k *Keystore) drainPool(ctx context.Context, d Domain) error {
	pool := k.pool(d)
	var ids []int64
	for {
		select {
		case dk := <-pool:
			ids = append(ids, int64(dk.id))
			continue
		default:
		}
		break
	}
	if len(ids) == 0 {
		return nil
	}
	return k.db.Write(ctx, func(tx sqldb.Tx) error {
		for _, id := range ids {
			if _, err := tx.Exec(ctx, "DELETE FROM ks_data_keys WHERE id = ? AND owner IS NULL", id); err != nil {
				return err
			}
		}
		return nil
	})
}

// RotateDue rotates every domain whose active version is older than the
// crypto-period, and returns the domains it rotated.
func (k *Keystore) RotateDue(ctx context.Context) ([]Domain, error) {
	return k.rotateDue(ctx, nil)
}

// rotateDue is RotateDue with each rotation run through around, if set.
func (k *Keystore) rotateDue(ctx context.Context, around func(context.Context, Domain,
	func(context.Context) error) error) ([]Domain, error) {
	now := k.cfg.Now()
	var due []Domain
	for _, d := range envelope.Domains {
		kk, err := k.active(d)
		if err != nil {
			return nil, err
		}
		if now.Sub(kk.created) >= k.cfg.CryptoPeriod {
			due = append(due, d)
		}
	}
	for _, d := range due {
		rotate := func(ctx context.Context) error {
			_, err := k.Rotate(ctx, d)
			return err
		}
		var err error
		if around != nil {
			err = around(ctx, d, rotate)
		} else {
			err = rotate(ctx)
		}
		if err != nil {
			return nil, err
		}
	}
	return due, nil
}

// RewrapBatch is how many data keys Rewrap moves per transaction.
const RewrapBatch = 5000

type rewrapRow struct {
	id      int64
	version int64
	wrapped []byte
}

// Rewrap moves every data key of domain d onto the active KEK version, in
// batches, without touching any sealed field. It can be interrupted and run
// again: each batch commits on its own and only keys still under an older
// version are read. progress, if not nil, is called after each batch.
func (k *Keystore) Rewrap(ctx context.Context, d Domain, progress func(done, total int64)) (int64, error) {
	if err := k.Refresh(ctx); err != nil {
		return 0, err
	}
	target, err := k.active(d)
	if err != nil {
		return 0, err
	}
	var total int64
	if progress != nil {
		err = k.db.Read(ctx, func(tx sqldb.Tx) error {
			return tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_data_keys WHERE domain = ? AND kek_version < ?"+
				" AND state <> ?", int64(d), int64(target.version), int64(Destroyed)).Scan(&total)
		})
		if err != nil {
			return 0, fmt.Errorf("rewrap %s: %w", d, err)
		}
	}
	// Reading and re-wrapping the next batch overlaps with writing the
	// previous one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	batches := make(chan []rewrapRow, 1)
	errc := make(chan error, 1)
	go func() {
		defer close(batches)
		errc <- k.rewrapProduce(ctx, d, target, batches)
	}()
	var done int64
	for batch := range batches {
		n, err := k.updateWrapped(ctx, target.version, batch)
		if err != nil {
			return done, fmt.Errorf("rewrap %s: %w", d, err)
		}
		done += n
		if progress != nil {
			progress(done, max(total, done))
		}
	}
	if err := <-errc; err != nil {
		return done, fmt.Errorf("rewrap %s: %w", d, err)
	}
	k.log.Info("rewrapped data keys", "domain", d.String(), "version", target.version, "keys", done)
	return done, nil
}

// rewrapProduce reads the keys under each older version, one version at a
// time so that each batch is a range of the (domain, kek_version, id) index
// with no sorting, and sends them re-wrapped under target.
func (k *Keystore) rewrapProduce(ctx context.Context, d Domain, target *kek, out chan<- []rewrapRow) error {
	for v := uint32(1); v < target.version; v++ {
		var after int64
		for {
			batch, err := k.rewrapRead(ctx, d, v, after)
			if err != nil || len(batch) == 0 {
				if err != nil {
					return err
				}
				break
			}
			after = batch[len(batch)-1].id
			if err := k.rewrapOpenSeal(d, target, batch); err != nil {
				return err
			}
			select {
			case out <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	return nil
}

func (k *Keystore) rewrapRead(ctx context.Context, d Domain, version uint32, after int64) ([]rewrapRow, error) {
	batch := make([]rewrapRow, 0, RewrapBatch)
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT id, kek_version, wrapped FROM ks_data_keys"+
			" WHERE domain = ? AND kek_version = ? AND id > ? AND state <> ? ORDER BY id LIMIT ?",
			int64(d), int64(version), after, int64(Destroyed), RewrapBatch)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r rewrapRow
			if err := rs.Scan(&r.id, &r.version, &r.wrapped); err != nil {
				return err
			}
			batch = append(batch, r)
		}
		return rs.Err()
	})
	return batch, err
}

// rewrapOpenSeal replaces each row's wrapped key with one under target.
func (k *Keystore) rewrapOpenSeal(d Domain, target *kek, batch []rewrapRow) error {
	for i := range batch {
		r := &batch[i]
		if r.wrapped == nil {
			continue
		}
		old, err := k.kekVersion(d, uint32(r.version))
		if err != nil {
			return fmt.Errorf("data key %d: %w", r.id, err)
		}
		b := dataKeyBinding(uint64(r.id))
		pt, err := envelope.Open(old.aead, r.wrapped, b)
		if err != nil {
			return fmt.Errorf("data key %d: %w", r.id, err)
		}
		r.wrapped, err = envelope.Seal(target.aead,
			envelope.Header{Domain: d, KeyVersion: target.version}, b, pt)
		clear(pt)
		if err != nil {
			return err
		}
	}
	return nil
}

// Destroy deletes version v of domain d's KEK. It refuses the active version
// and any version that still has data keys, or other registered usage,
// under it.
func (k *Keystore) Destroy(ctx context.Context, d Domain, v uint32) error {
	if err := k.Refresh(ctx); err != nil {
		return err
	}
	now := k.cfg.Now()
	k.mu.RLock()
	usage := append([]UsageFunc(nil), k.usage[d]...)
	k.mu.RUnlock()
	err := k.db.Write(ctx, func(tx sqldb.Tx) error {
		var state int64
		err := tx.QueryRow(ctx, "SELECT state FROM ks_keks WHERE domain = ? AND version = ?",
			int64(d), int64(v)).Scan(&state)
		if errors.Is(err, sqldb.ErrNoRows) {
			return ErrUnknownKey
		}
		if err != nil {
			return err
		}
		switch State(state) {
		case Destroyed:
			return nil
		case Active:
			return fmt.Errorf("%w: version %d is active; rotate first", ErrInUse, v)
		}
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_data_keys WHERE domain = ? AND kek_version = ?"+
			" AND state <> ?", int64(d), int64(v), int64(Destroyed)).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("%w: %d data keys are wrapped under version %d; run 'securecart keys rewrap %s'",
				ErrInUse, n, v, d)
		}
		for _, fn := range usage {
			c, err := fn(ctx, tx, v)
			if err != nil {
				return err
			}
			if c > 0 {
				return fmt.Errorf("%w: %d stored values still use version %d", ErrInUse, c, v)
			}
		}
		_, err = tx.Exec(ctx, "UPDATE ks_keks SET state = ?, state_at = ?, wrapped = NULL"+
			" WHERE domain = ? AND version = ?", int64(Destroyed), sqldb.Micros(now), int64(d), int64(v))
		return err
	})
	if err != nil {
		return fmt.Errorf("destroy %s version %d: %w", d, v, err)
	}
	if d == envelope.BlindIndex {
		k.bidxMu.Lock()
		delete(k.bidx, v)
		k.bidxMu.Unlock()
	}
	k.log.Info("destroyed key-encryption key", "domain", d.String(), "version", v)
	return k.Refresh(ctx)
}

// RotateRoot generates a new root key and re-wraps every KEK under it. The
// provider stages the new key first and promotes it only after the re-wrap
// has committed, so a crash at any point leaves a root key that opens the
// keystore (Open finishes or discards the rotation).
func (k *Keystore) RotateRoot(ctx context.Context) error {
	next, err := NewRootKey()
	if err != nil {
		return err
	}
	nextAEAD, err := next.s.aead()
	if err != nil {
		return err
	}
	if err := k.provider.Stage(ctx, next); err != nil {
		return fmt.Errorf("rotate root: stage: %w", err)
	}
	// No reload may run between the commit and the switch below: it would
	// find the KEKs wrapped under a root key this node does not hold yet.
	k.refreshMu.Lock()
	defer k.refreshMu.Unlock()
	k.rootMu.RLock()
	oldAEAD := k.rootAEAD
	k.rootMu.RUnlock()
	err = k.db.Write(ctx, func(tx sqldb.Tx) error {
		if _, err := lockRootID(ctx, tx); err != nil {
			return err
		}
		rs, err := tx.Query(ctx, "SELECT domain, version, wrapped FROM ks_keks WHERE state <> ?", int64(Destroyed))
		if err != nil {
			return err
		}
		type row struct {
			d, v    int64
			wrapped []byte
		}
		var rows []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.d, &r.v, &r.wrapped); err != nil {
				rs.Close()
				return err
			}
			rows = append(rows, r)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for _, r := range rows {
			b := kekBinding(Domain(r.d), uint32(r.v))
			pt, err := envelope.Open(oldAEAD, r.wrapped, b)
			if err != nil {
				return fmt.Errorf("unwrap %s version %d: %w", Domain(r.d), r.v, err)
			}
			w, err := envelope.Seal(nextAEAD, envelope.Header{Domain: Domain(r.d), KeyVersion: uint32(r.v)}, b, pt)
			clear(pt)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, "UPDATE ks_keks SET wrapped = ?, root_id = ? WHERE domain = ? AND version = ?",
				w, next.ID(), r.d, r.v); err != nil {
				return err
			}
		}
		return putMeta(ctx, tx, metaRootID, []byte(next.ID()))
	})
	if err != nil {
		return errors.Join(fmt.Errorf("rotate root: %w", err), k.provider.Discard(ctx))
	}
	if err := k.provider.Promote(ctx); err != nil {
		return fmt.Errorf("rotate root: promote (the keystore already uses the new key; start securecart again to finish): %w", err)
	}
	k.rootMu.Lock()
	old := k.root
	k.root, k.rootAEAD = next, nextAEAD
	k.rootMu.Unlock()
	old.Wipe()
	k.log.Info("rotated root key", "root_id", next.ID())
	return nil
}

// Root returns the root key, for a recovery export by the local operator.
func (k *Keystore) Root() RootKey {
	k.rootMu.RLock()
	defer k.rootMu.RUnlock()
	return k.root
}

// KeyInfo describes one KEK version. It carries no key material.
type KeyInfo struct {
	Domain   Domain    `json:"domain"`
	Version  uint32    `json:"version"`
	State    State     `json:"state"`
	Created  time.Time `json:"created"`
	Age      string    `json:"age"`
	DataKeys int64     `json:"data_keys"`
	Seals    int64     `json:"seals_reserved"`
}

// List describes every KEK version with the number of live data keys under
// it and their reserved seal counts.
func (k *Keystore) List(ctx context.Context) ([]KeyInfo, error) {
	var out []KeyInfo
	type agg struct{ n, seals int64 }
	counts := map[[2]int64]agg{}
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT domain, kek_version, COUNT(*), COALESCE(SUM(seals_reserved), 0)"+
			" FROM ks_data_keys WHERE state <> ? GROUP BY domain, kek_version", int64(Destroyed))
		if err != nil {
			return err
		}
		for rs.Next() {
			var d, v, n, s int64
			if err := rs.Scan(&d, &v, &n, &s); err != nil {
				rs.Close()
				return err
			}
			counts[[2]int64{d, v}] = agg{n, s}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		rs, err = tx.Query(ctx, "SELECT domain, version, state, created_at FROM ks_keks ORDER BY domain, version")
		if err != nil {
			return err
		}
		defer rs.Close()
		now := k.cfg.Now()
		for rs.Next() {
			var d, v, st, created int64
			if err := rs.Scan(&d, &v, &st, &created); err != nil {
				return err
			}
			c := counts[[2]int64{d, v}]
			t := sqldb.FromMicros(created)
			out = append(out, KeyInfo{Domain: Domain(d), Version: uint32(v), State: State(st),
				Created: t, Age: now.Sub(t).Round(time.Second).String(), DataKeys: c.n, Seals: c.seals})
		}
		return rs.Err()
	})
	return out, err
}

// DataKeySeals returns the durable seal count of a data key.
func (k *Keystore) DataKeySeals(ctx context.Context, id uint64) (uint64, error) {
	var n int64
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT seals_reserved FROM ks_data_keys WHERE id = ?", int64(id)).Scan(&n)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return 0, ErrUnknownKey
	}
	return uint64(n), err
}

// OwnerKeyID returns the id of owner's active data key of domain d.
func (k *Keystore) OwnerKeyID(ctx context.Context, d Domain, owner string) (uint64, error) {
	dk, err := k.ownerKey(ctx, d, owner)
	if err != nil {
		return 0, err
	}
	return dk.id, nil
}
