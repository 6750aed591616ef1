package identity

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// lastUseInterval is how stale a key's recorded last use may get before a
// request records it again.
const lastUseInterval = time.Minute

// maxLastUsed is how many recent uses are remembered before the stale
// ones are dropped.
const maxLastUsed = 4096

// dummyHash stands in for the hash of an unknown key, so that a miss does
// the same comparison as a hit.
var dummyHash = make([]byte, 32)

// CreateKey issues an API key for the principal with principalID, valid for
// ttl (0 for no expiry). The APIKey is the only copy of the secret: show it
// to its owner once. It returns ErrNotFound for an unknown principal and an
// *InvalidError for a disabled one or a negative ttl.
func (d *Directory) CreateKey(
	ctx context.Context, principalID string, ttl time.Duration,
) (APIKey, *KeyInfo, error) {
	if ttl < 0 {
		return APIKey{}, nil, fmt.Errorf("create key: %w", invalid("ttl", "must not be negative"))
	}
	if !validPrincipalID(principalID) {
		return APIKey{}, nil, fmt.Errorf("create key: %w", ErrNotFound)
	}
	// A key id is 60 random bits; a collision is retried, not reported.
	for range 3 {
		key, info, hash, err := d.newKeyFor(principalID, ttl)
		if err != nil {
			return APIKey{}, nil, fmt.Errorf("create key: %w", err)
		}
		err = d.db.Write(ctx, func(tx sqldb.Tx) error {
			var disabledAt int64
			err := tx.QueryRow(ctx, "SELECT COALESCE(disabled_at, 0) FROM identity_principals"+
				" WHERE id = ?", principalID).Scan(&disabledAt)
			if errors.Is(err, sqldb.ErrNoRows) {
				return ErrNotFound
			}
			if err != nil {
				return err
			}
			if disabledAt != 0 {
				return invalid("principal", "is disabled")
			}
			return insertKey(ctx, tx, info, hash)
		})
		if sqldb.IsUniqueViolation(err) {
			continue
		}
		if err != nil {
			return APIKey{}, nil, fmt.Errorf("create key for %s: %w", principalID, err)
		}
		return key, info, nil
	}
	return APIKey{}, nil, errors.New("create key: key ids keep colliding")
}

func (d *Directory) newKeyFor(
	principalID string, ttl time.Duration,
) (APIKey, *KeyInfo, []byte, error) {
	key, hash, err := newKey()
	if err != nil {
		return APIKey{}, nil, nil, err
	}
	now := d.clock()
	info := &KeyInfo{ID: key.ID(), PrincipalID: principalID, Prefix: key.Prefix(), CreatedAt: now}
	if ttl > 0 {
		info.ExpiresAt = now.Add(ttl).Truncate(time.Microsecond)
	}
	return key, info, hash, nil
}

func insertKey(ctx context.Context, tx sqldb.Tx, k *KeyInfo, hash []byte) error {
	_, err := tx.Exec(ctx, "INSERT INTO identity_api_keys"+
		" (id, principal_id, prefix, hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)",
		k.ID, k.PrincipalID, k.Prefix, hash, sqldb.Micros(k.CreatedAt), nullMicros(k.ExpiresAt))
	return err
}

// RevokeKey revokes the key with keyID at once, or returns ErrNotFound.
// Revoking a revoked key keeps its first revocation time.
func (d *Directory) RevokeKey(ctx context.Context, keyID string) error {
	if len(keyID) != keyIDLen || !isLowerBase32(keyID) {
		return fmt.Errorf("revoke key: %w", ErrNotFound)
	}
	now := d.clock()
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		return markOnce(ctx, tx, "identity_api_keys", "revoked_at", keyID, now)
	})
	if err != nil {
		return fmt.Errorf("revoke key %s: %w", keyID, err)
	}
	d.mu.Lock()
	delete(d.lastUsed, keyID)
	d.mu.Unlock()
	d.verified.forgetKey(keyID)
	return nil
}

// loadKeys returns the metadata of the keys that query (qKeysOf or
// qAllKeys) selects.
func loadKeys(ctx context.Context, tx sqldb.Tx, query string, args ...any) ([]KeyInfo, error) {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []KeyInfo
	for rows.Next() {
		var k KeyInfo
		var created, expires, revoked, used int64
		err := rows.Scan(&k.ID, &k.PrincipalID, &k.Prefix, &created, &expires, &revoked, &used)
		if err != nil {
			return nil, err
		}
		k.CreatedAt = sqldb.FromMicros(created)
		k.ExpiresAt = fromNullMicros(expires)
		k.RevokedAt = fromNullMicros(revoked)
		k.LastUsedAt = fromNullMicros(used)
		out = append(out, k)
	}
	return out, rows.Err()
}

// Authenticate returns the principal that presented holds a key of. Every
// rejection is ErrUnauthenticated; any other error means the directory
// could not be read. The principal comes without its keys.
func (d *Directory) Authenticate(ctx context.Context, presented string) (*Principal, error) {
	id, secret, ok := parseKey(presented)
	if !ok {
		return nil, ErrUnauthenticated
	}
	defer clear(secret)
	presentedHash := hashSecret(secret)
	if p, used, ok := d.verified.get(id, presentedHash, d.clock()); ok {
		d.recordUse(ctx, id, used, d.clock())
		return p, nil
	}

	var (
		p                      *Principal
		hash                   []byte
		expires, revoked, used int64
	)
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		var err error
		p, err = scanPrincipal(tx.QueryRow(ctx, qAuthenticate, id),
			&hash, &expires, &revoked, &used)
		return err
	})
	found := err == nil
	if errors.Is(err, sqldb.ErrNoRows) {
		hash = dummyHash
	} else if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}

	match := subtle.ConstantTimeCompare(presentedHash, hash) == 1
	now := d.clock()
	expired := expires != 0 && sqldb.Micros(now) >= expires
	if !found || !match || expired || revoked != 0 || !p.Enabled() {
		return nil, ErrUnauthenticated
	}
	d.recordUse(ctx, id, fromNullMicros(used), now)
	d.verified.put(id, hash, p, expires, fromNullMicros(used), now)
	return p, nil
}

// recordUse writes a key's last use if the stored one is a minute old and
// this node has not just written it. A failed write is forgotten so that
// the next request tries again.
func (d *Directory) recordUse(ctx context.Context, id string, stored, now time.Time) {
	if now.Sub(stored) < lastUseInterval {
		return
	}
	d.mu.Lock()
	if t, ok := d.lastUsed[id]; ok && now.Sub(t) < lastUseInterval {
		d.mu.Unlock()
		return
	}
	if len(d.lastUsed) >= maxLastUsed {
		for k, t := range d.lastUsed {
			if now.Sub(t) >= lastUseInterval {
				delete(d.lastUsed, k)
			}
		}
	}
	d.lastUsed[id] = now
	d.mu.Unlock()

	// The condition keeps nodes that race for the same key from moving
	// the time back and from writing it twice in a minute.
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE identity_api_keys SET last_used_at = ? WHERE id = ?"+
			" AND (last_used_at IS NULL OR last_used_at <= ?)",
			sqldb.Micros(now), id, sqldb.Micros(now.Add(-lastUseInterval)))
		return err
	})
	if err != nil {
		d.mu.Lock()
		if d.lastUsed[id].Equal(now) {
			delete(d.lastUsed, id)
		}
		d.mu.Unlock()
	}
}
