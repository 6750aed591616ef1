package store

import (
	"bytes"
	"context"
	"errors"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// Idempotency keys
//
// A client that retries a create with the same Idempotency-Key must get the
// first result, not a second resource. The store remembers, per principal
// and key, a hash of the request and the id of what it created: never the
// response, so no PII is kept here, and a replay renders the resource anew
// for the caller. A key is claimed before the create runs, so two
// concurrent requests with one key cannot both create. A key is kept for
// IdemKeyTTL: each claim first drops the keys older than that, so a key
// expires on time and the table holds about one day of creates.

// Idempotency outcomes.
var (
	// ErrIdemMismatch means the key was used with a different request.
	ErrIdemMismatch = errors.New("store: idempotency key reused with a different request")
	// ErrIdemInProgress means a request with the key has not finished.
	ErrIdemInProgress = errors.New("store: a request with this idempotency key is in progress")
)

// IdemKeyTTL is how long an Idempotency-Key is remembered. A retry after
// it is a new request.
const IdemKeyTTL = 24 * time.Hour

// idemPending marks a claimed key whose create has not finished.
const idemPending = ""

// ClaimIdempotency claims key for principal. If the key was used before
// with the same request hash, it returns the id of the resource created
// then; with another hash, ErrIdemMismatch; while that request still runs,
// ErrIdemInProgress. An empty id and no error mean the caller now holds the
// claim and must call FinishIdempotency or ReleaseIdempotency.
func (s *Store) ClaimIdempotency(ctx context.Context, principal, key string, hash []byte) (string, error) {
	var (
		prevHash []byte
		prevID   string
	)
	now := s.now()
	err := s.db.Write(ctx, func(tx sqldb.Tx) error {
		prevHash, prevID = nil, ""
		if _, err := tx.Exec(ctx, "DELETE FROM idempotency WHERE created_at < ?",
			sqldb.Micros(now.Add(-IdemKeyTTL))); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT request_hash, resource_id FROM idempotency WHERE principal = ? AND idem_key = ?",
			principal, key).Scan(&prevHash, &prevID)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sqldb.ErrNoRows) {
			return err
		}
		_, err = tx.Exec(ctx, "INSERT INTO idempotency (principal, idem_key, request_hash, resource_id, created_at)"+
			" VALUES (?, ?, ?, ?, ?)", principal, key, hash, idemPending, sqldb.Micros(now))
		if sqldb.IsUniqueViolation(err) {
			return ErrIdemInProgress
		}
		return err
	})
	switch {
	case err != nil:
		return "", err
	case prevHash == nil:
		return "", nil
	case !bytes.Equal(prevHash, hash):
		return "", ErrIdemMismatch
	case prevID == idemPending:
		return "", ErrIdemInProgress
	}
	return prevID, nil
}

// FinishIdempotency records what the claimed request created.
func (s *Store) FinishIdempotency(ctx context.Context, principal, key, resourceID string) error {
	return s.db.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE idempotency SET resource_id = ? WHERE principal = ? AND idem_key = ?",
			resourceID, principal, key)
		return err
	})
}

// ReleaseIdempotency drops a claim whose request failed, so it can be
// retried.
func (s *Store) ReleaseIdempotency(ctx context.Context, principal, key string) error {
	return s.db.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM idempotency WHERE principal = ? AND idem_key = ? AND resource_id = ?",
			principal, key, idemPending)
		return err
	})
}
