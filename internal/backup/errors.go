package backup

import (
	"context"
	"errors"
	"io"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// Errors callers match with errors.Is.
var (
	// ErrCorrupt means a backup object failed to open or parse: it was
	// altered, it belongs to another deployment, or it was moved.
	ErrCorrupt = errors.New("backup: object is damaged, foreign or moved")
	// ErrMissing means an object the restore needs is not in storage.
	ErrMissing = errors.New("backup: object missing")
	// ErrNoSnapshot means there is no complete snapshot to start from.
	ErrNoSnapshot = errors.New("backup: no snapshot at or before the requested point")
	// ErrTargetExists means the restore target already holds data.
	ErrTargetExists = errors.New("backup: the restore target is not empty")
	// ErrBehind means the backups have not reached the requested point.
	ErrBehind = errors.New("backup: the shipped backups do not reach the requested point")
)

// SegmentError names the backup object a restore stopped at.
type SegmentError struct {
	Name string
	Err  error
}

func (e *SegmentError) Error() string { return "backup object " + e.Name + ": " + e.Err.Error() }
func (e *SegmentError) Unwrap() error { return e.Err }

// Sealer seals and opens backup objects. *keys.Keystore implements it.
type Sealer interface {
	SealFor(ctx context.Context, d envelope.Domain, owner string, b envelope.Binding, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, sealed []byte, b envelope.Binding) ([]byte, error)
}

// Keystore is what the shipper needs of the key hierarchy.
// *keys.Keystore implements it.
type Keystore interface {
	Sealer
	Snapshot(ctx context.Context, w io.Writer) error
	Generation(ctx context.Context) (string, error)
	OwnerKeyID(ctx context.Context, d envelope.Domain, owner string) (uint64, error)
	NewDataKey(ctx context.Context, d envelope.Domain) (keys.DataKey, error)
	Assign(ctx context.Context, tx sqldb.Tx, key keys.DataKey, owner string) error
	Assigned(key keys.DataKey, owner string)
}
