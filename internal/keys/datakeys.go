package keys

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

// maxPoolAge is how long a pooled key is handed out; the orphan sweep
// removes unassigned keys only when they are older than that (Maintenance).
const maxPoolAge = 12 * time.Hour

// NewDataKey hands out an unassigned data key of domain d from the pool,
// creating a batch if the pool is empty. Seal the new owner's fields with it
// (SealWith), then call Assign inside the owner's transaction.
func (k *Keystore) NewDataKey(ctx context.Context, d Domain) (DataKey, error) {
	pool := k.pool(d)
	for {
		select {
		case dk := <-pool:
			k.maybeRefill(d, len(pool))
			if k.nowNano()-dk.checked.Load() > int64(maxPoolAge) {
				continue // the orphan sweep may have removed it
			}
			return DataKey{dk}, nil
		default:
		}
		if err := k.fillPool(ctx, d); err != nil {
			return DataKey{}, err
		}
	}
}

func (k *Keystore) pool(d Domain) chan *dataKey {
	k.poolMu.Lock()
	defer k.poolMu.Unlock()
	p, ok := k.pools[d]
	if !ok {
		p = make(chan *dataKey, k.cfg.PoolSize)
		k.pools[d] = p
	}
	return p
}

// maybeRefill starts a background refill when the pool runs low.
func (k *Keystore) maybeRefill(d Domain, left int) {
	if left > k.cfg.PoolSize/2 {
		return
	}
	k.poolMu.Lock()
	if k.refilling[d] {
		k.poolMu.Unlock()
		return
	}
	k.refilling[d] = true
	k.poolMu.Unlock()
	k.bg.Add(1)
	go func() {
		defer k.bg.Done()
		if err := k.fillPool(context.Background(), d); err != nil {
			k.log.Warn("refill data key pool", "domain", d.String(), "err", err)
		}
		k.poolMu.Lock()
		k.refilling[d] = false
		k.poolMu.Unlock()
	}()
}

// fillPool creates as many data keys as the pool has room for, in one commit.
func (k *Keystore) fillPool(ctx context.Context, d Domain) error {
	pool := k.pool(d)
	n := cap(pool) - len(pool)
	if n <= 0 {
		return nil
	}
	kk, err := k.active(d)
	if err != nil {
		return err
	}
	now := k.cfg.Now()
	keys := make([]*dataKey, 0, n)
	rows := make([]dataKeyRow, 0, n)
	for range n {
		dk, w, err := k.generate(d, kk)
		if err != nil {
			return err
		}
		dk.checked.Store(now.UnixNano())
		keys = append(keys, dk)
		rows = append(rows, dataKeyRow{id: dk.id, wrapped: w})
	}
	err = k.insertDataKeys(ctx, d, kk.version, rows, int64(k.initialReserve()))
	if errors.Is(err, errStaleKEK) {
		// Reload; the caller's next fill uses the current version.
		return k.Refresh(ctx)
	}
	if sqldb.IsUniqueViolation(err) {
		// Another node picked one of these ids in the same millisecond;
		// the caller's next fill draws new ones.
		return nil
	}
	if err != nil {
		return fmt.Errorf("create data keys: %w", err)
	}
	for _, dk := range keys {
		select {
		case pool <- dk:
		default:
			// Another fill got there first; the extra key stays unassigned
			// in the database until the orphan sweep removes it.
		}
	}
	return nil
}

// generate makes a data key and its wrapped form under kk.
func (k *Keystore) generate(d Domain, kk *kek) (*dataKey, []byte, error) {
	id, err := newDataKeyID()
	if err != nil {
		return nil, nil, err
	}
	s, err := newSecret()
	if err != nil {
		return nil, nil, err
	}
	defer s.wipe()
	w, err := envelope.Seal(kk.aead, envelope.Header{Domain: d, KeyVersion: kk.version},
		dataKeyBinding(id), s.b[:])
	if err != nil {
		return nil, nil, err
	}
	aead, err := s.aead()
	if err != nil {
		return nil, nil, err
	}
	return &dataKey{id: id, domain: d, aead: aead, limit: k.initialReserve()}, w, nil
}

// lockActiveKEK locks version v of d's KEK for the rest of tx and checks
// that it is still active: another node may have rotated it, and even
// destroyed it, since this one loaded it. Keys wrapped under it must not be
// stored then.
func lockActiveKEK(ctx context.Context, tx sqldb.Tx, d Domain, v uint32) error {
	n, err := tx.Exec(ctx, "UPDATE ks_keks SET state = state WHERE domain = ? AND version = ? AND state = ?",
		int64(d), int64(v), int64(Active))
	if err != nil {
		return err
	}
	if n != 1 {
		return errStaleKEK
	}
	return nil
}

// initialReserve is the seal budget of a new data key, never over the cap.
func (k *Keystore) initialReserve() uint64 { return min(initialReserve, k.cfg.SealCap) }

// Assign gives the pooled key to owner inside the caller's transaction. It
// fails with ErrKeyTaken if the key is no longer free.
func (k *Keystore) Assign(ctx context.Context, tx sqldb.Tx, key DataKey, owner string) error {
	s := k.AssignStmt(key, owner)
	n, err := tx.Exec(ctx, s.Query, s.Args...)
	if err != nil {
		return fmt.Errorf("assign data key: %w", err)
	}
	return AssignResult(n)
}

// AssignStmt is the statement that Assign runs, for a caller that sends it
// in one batch with its own statements; check what it affected with
// AssignResult.
func (k *Keystore) AssignStmt(key DataKey, owner string) sqldb.Stmt {
	return sqldb.Stmt{
		Query: "UPDATE ks_data_keys SET owner = ? WHERE id = ? AND owner IS NULL AND state = ?",
		Args:  []any{owner, int64(key.k.id), int64(Active)},
	}
}

// AssignResult turns the rows an AssignStmt affected into its outcome.
func AssignResult(rowsAffected int64) error {
	if rowsAffected != 1 {
		return ErrKeyTaken
	}
	return nil
}

// Assigned records in memory that key now belongs to owner, after the
// transaction that called Assign has committed.
func (k *Keystore) Assigned(key DataKey, owner string) {
	dk := key.k
	dk.mu.Lock()
	dk.owner = owner
	dk.mu.Unlock()
	k.cache.Add(dk.id, dk)
	k.owners.Add(owner, dk)
}

// SealWith seals plaintext for b with a data key handed out by NewDataKey.
func (k *Keystore) SealWith(ctx context.Context, key DataKey, b envelope.Binding, plaintext []byte) ([]byte, error) {
	return k.seal(ctx, key.k, b, plaintext)
}

// SealFor seals plaintext for b with owner's active data key of domain d,
// replacing the key first if it reached its seal cap.
func (k *Keystore) SealFor(ctx context.Context, d Domain, owner string, b envelope.Binding, plaintext []byte) ([]byte, error) {
	for attempt := 0; attempt < 3; attempt++ {
		dk, err := k.ownerKey(ctx, d, owner)
		if err != nil {
			return nil, err
		}
		out, err := k.seal(ctx, dk, b, plaintext)
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, errExhausted):
			if err := k.replace(ctx, d, owner, dk); err != nil {
				return nil, err
			}
		case errors.Is(err, errNotActive):
			k.owners.Remove(owner)
		default:
			return nil, err
		}
	}
	return nil, fmt.Errorf("seal: could not find a usable data key for owner")
}

var (
	errStaleKEK  = errors.New("keys: key-encryption key is no longer active")
	errExhausted = errors.New("keys: data key reached its seal cap")
	errNotActive = errors.New("keys: data key is no longer active")
)

// seal counts the seal against the key's durable reservation, then seals.
func (k *Keystore) seal(ctx context.Context, dk *dataKey, b envelope.Binding, pt []byte) ([]byte, error) {
	dk.mu.Lock()
	if dk.used >= dk.limit {
		if err := k.reserve(ctx, dk); err != nil {
			dk.mu.Unlock()
			return nil, err
		}
	}
	dk.used++
	dk.mu.Unlock()
	k.seals.Add(1)
	return envelope.Seal(dk.aead, envelope.Header{Domain: dk.domain, KeyID: dk.id}, b, pt)
}

// reserve records the next block of seals durably. dk.mu is held.
func (k *Keystore) reserve(ctx context.Context, dk *dataKey) error {
	block := k.cfg.ReserveBlock
	var total, cur int64
	err := k.db.Write(ctx, func(tx sqldb.Tx) error {
		// Lock the row before reading it: at PostgreSQL's READ COMMITTED,
		// two nodes could otherwise read the same count and reserve the
		// same block.
		if _, err := tx.Exec(ctx, "UPDATE ks_data_keys SET seals_reserved = seals_reserved WHERE id = ?",
			int64(dk.id)); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT seals_reserved FROM ks_data_keys WHERE id = ? AND state = ?",
			int64(dk.id), int64(Active)).Scan(&cur)
		if errors.Is(err, sqldb.ErrNoRows) {
			return errNotActive
		}
		if err != nil {
			return err
		}
		if uint64(cur) >= k.cfg.SealCap {
			return errExhausted
		}
		total = int64(min(uint64(cur)+block, k.cfg.SealCap))
		_, err = tx.Exec(ctx, "UPDATE ks_data_keys SET seals_reserved = ? WHERE id = ? AND seals_reserved = ?",
			total, int64(dk.id), cur)
		return err
	})
	if err != nil {
		if errors.Is(err, errNotActive) || errors.Is(err, errExhausted) {
			return err
		}
		return fmt.Errorf("reserve seals: %w", err)
	}
	// Whatever this or another node reserved before is counted as used.
	dk.used = max(dk.used, uint64(cur))
	dk.limit = uint64(total)
	return nil
}

// replace gives owner a new data key and retires old.
func (k *Keystore) replace(ctx context.Context, d Domain, owner string, old *dataKey) error {
	nk, err := k.NewDataKey(ctx, d)
	if err != nil {
		return err
	}
	err = k.db.Write(ctx, func(tx sqldb.Tx) error {
		n, err := tx.Exec(ctx, "UPDATE ks_data_keys SET state = ? WHERE id = ? AND state = ?",
			int64(DecryptOnly), int64(old.id), int64(Active))
		if err != nil {
			return err
		}
		if n == 0 {
			// Replaced concurrently; the pooled key stays free.
			return errNotActive
		}
		return k.Assign(ctx, tx, nk, owner)
	})
	if errors.Is(err, errNotActive) {
		k.owners.Remove(owner)
		select {
		case k.pool(d) <- nk.k:
		default:
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("replace data key: %w", err)
	}
	k.Assigned(nk, owner)
	k.log.Info("replaced data key at seal cap", "domain", d.String(), "key_id", old.id)
	return nil
}

// ownerKey returns owner's active data key of domain d.
func (k *Keystore) ownerKey(ctx context.Context, d Domain, owner string) (*dataKey, error) {
	if dk, ok := k.owners.Get(owner); ok && dk.domain == d && k.fresh(dk) {
		return dk, nil
	}
	var id int64
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT id FROM ks_data_keys WHERE owner = ? AND domain = ? AND state = ?"+
			" ORDER BY created_at DESC LIMIT 1", owner, int64(d), int64(Active)).Scan(&id)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNoActiveKey
	}
	if err != nil {
		return nil, fmt.Errorf("find data key: %w", err)
	}
	dk, err := k.load(ctx, uint64(id))
	if err != nil {
		return nil, err
	}
	k.owners.Add(owner, dk)
	return dk, nil
}

// fresh reports whether a cached key was checked recently enough.
func (k *Keystore) fresh(dk *dataKey) bool {
	return k.nowNano()-dk.checked.Load() < int64(k.cfg.CacheTTL)
}

// load returns the data key with id, from the cache or the database.
func (k *Keystore) load(ctx context.Context, id uint64) (*dataKey, error) {
	if dk, ok := k.cache.Get(id); ok {
		if k.fresh(dk) {
			return dk, nil
		}
		if err := k.recheck(ctx, dk); err != nil {
			return nil, err
		}
		return dk, nil
	}
	var (
		d, kekV, state, reserved int64
		owner                    *string
		wrapped                  []byte
	)
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT domain, owner, kek_version, wrapped, state, seals_reserved"+
			" FROM ks_data_keys WHERE id = ?", int64(id)).Scan(&d, &owner, &kekV, &wrapped, &state, &reserved)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrUnknownKey
	}
	if err != nil {
		return nil, fmt.Errorf("load data key: %w", err)
	}
	if State(state) == Destroyed || wrapped == nil {
		return nil, ErrKeyDestroyed
	}
	kk, err := k.kekVersion(Domain(d), uint32(kekV))
	if errors.Is(err, ErrUnknownKey) {
		// A rotation made on another node: reload and try once more.
		if err := k.Refresh(ctx); err != nil {
			return nil, err
		}
		kk, err = k.kekVersion(Domain(d), uint32(kekV))
	}
	if err != nil {
		return nil, err
	}
	pt, err := envelope.Open(kk.aead, wrapped, dataKeyBinding(id))
	if err != nil {
		return nil, fmt.Errorf("unwrap data key: %w", err)
	}
	s, err := secretFrom(pt)
	clear(pt)
	if err != nil {
		return nil, err
	}
	aead, err := s.aead()
	s.wipe()
	if err != nil {
		return nil, err
	}
	dk := &dataKey{id: id, domain: Domain(d), aead: aead,
		used: uint64(reserved), limit: uint64(reserved)}
	dk.checked.Store(k.cfg.Now().UnixNano())
	if owner != nil {
		dk.owner = *owner
	}
	k.cache.Add(id, dk)
	return dk, nil
}

// recheck confirms that a cached key still exists, evicting it if not.
func (k *Keystore) recheck(ctx context.Context, dk *dataKey) error {
	var state int64
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT state FROM ks_data_keys WHERE id = ?", int64(dk.id)).Scan(&state)
	})
	if errors.Is(err, sqldb.ErrNoRows) || (err == nil && State(state) == Destroyed) {
		k.evict(dk)
		if err != nil {
			return ErrUnknownKey
		}
		return ErrKeyDestroyed
	}
	if err != nil {
		return fmt.Errorf("check data key: %w", err)
	}
	dk.checked.Store(k.cfg.Now().UnixNano())
	return nil
}

func (k *Keystore) evict(dk *dataKey) {
	k.cache.Remove(dk.id)
	dk.mu.Lock()
	owner := dk.owner
	dk.mu.Unlock()
	if owner != "" {
		if cur, ok := k.owners.Peek(owner); ok && cur == dk {
			k.owners.Remove(owner)
		}
	}
}

// Open opens a value sealed with a data key, for the place b.
func (k *Keystore) Open(ctx context.Context, sealed []byte, b envelope.Binding) ([]byte, error) {
	h, err := envelope.Parse(sealed)
	if err != nil {
		return nil, err
	}
	if h.KeyID == 0 || h.KeyVersion != 0 {
		return nil, ErrUnknownKey
	}
	dk, err := k.load(ctx, h.KeyID)
	if err != nil {
		return nil, err
	}
	if dk.domain != h.Domain {
		return nil, envelope.ErrAuth
	}
	k.opens.Add(1)
	return envelope.Open(dk.aead, sealed, b)
}

// OpenAll opens the values of one row, each for its own place in bs, and
// looks each key up once: a row's fields are usually sealed with one key.
// It fails as Open does, on the first value that does not open, and then
// returns no plaintext at all.
func (k *Keystore) OpenAll(ctx context.Context, sealed [][]byte, bs []envelope.Binding) ([][]byte, error) {
	if len(sealed) != len(bs) {
		return nil, fmt.Errorf("open: %d values for %d places", len(sealed), len(bs))
	}
	out := make([][]byte, len(sealed))
	var dk *dataKey
	for i, v := range sealed {
		h, err := envelope.Parse(v)
		if err == nil && (h.KeyID == 0 || h.KeyVersion != 0) {
			err = ErrUnknownKey
		}
		if err == nil && (dk == nil || dk.id != h.KeyID) {
			dk, err = k.load(ctx, h.KeyID)
		}
		if err == nil && dk.domain != h.Domain {
			err = envelope.ErrAuth
		}
		if err == nil {
			k.opens.Add(1)
			out[i], err = envelope.Open(dk.aead, v, bs[i])
		}
		if err != nil {
			for _, pt := range out[:i] {
				clear(pt)
			}
			return nil, err
		}
	}
	return out, nil
}

// Operations returns how many fields this keystore has sealed and tried
// to open with data keys since it was opened, for the metrics.
func (k *Keystore) Operations() (seals, opens uint64) {
	return k.seals.Load(), k.opens.Load()
}

// Shred destroys every data key of owner: its material is deleted from the
// keystore and dropped from memory, so nothing it sealed opens again,
// including copies in backups. It returns how many keys were destroyed.
func (k *Keystore) Shred(ctx context.Context, owner string) (int, error) {
	var ids []int64
	err := k.db.Write(ctx, func(tx sqldb.Tx) error {
		ids = ids[:0]
		rs, err := tx.Query(ctx, "SELECT id FROM ks_data_keys WHERE owner = ? AND state <> ?",
			owner, int64(Destroyed))
		if err != nil {
			return err
		}
		for rs.Next() {
			var id int64
			if err := rs.Scan(&id); err != nil {
				rs.Close()
				return err
			}
			ids = append(ids, id)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE ks_data_keys SET state = ?, wrapped = NULL WHERE owner = ?",
			int64(Destroyed), owner)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("shred: %w", err)
	}
	k.owners.Remove(owner)
	for _, id := range ids {
		k.cache.Remove(uint64(id))
	}
	return len(ids), nil
}

// SweepOrphans deletes unassigned data keys created before cutoff by pools
// that are gone, and reports how many it removed.
func (k *Keystore) SweepOrphans(ctx context.Context, olderThan int64) (int64, error) {
	var n int64
	err := k.db.Write(ctx, func(tx sqldb.Tx) error {
		var err error
		n, err = tx.Exec(ctx, "DELETE FROM ks_data_keys WHERE owner IS NULL AND created_at < ?", olderThan)
		return err
	})
	return n, err
}
