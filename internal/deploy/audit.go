package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
)

// AuditDir is the deployment's audit log directory.
func (d *Deployment) AuditDir() string {
	return filepath.Join(d.Config.DataDir, audit.DirName)
}

// OpenAudit opens the deployment's audit log for appending, its
// checkpoints signed with the keystore's audit-signing key under the
// log's origin (the configured one, or audit.DefaultOrigin, for a new
// log). Only one process may have it open: audit.ErrLocked says another
// does.
func (d *Deployment) OpenAudit(opts audit.Options) (*audit.Log, error) {
	origin, err := d.auditOrigin()
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	dir := d.AuditDir()
	signer, err := d.Keys.AuditSigner(origin)
	if err != nil {
		return nil, fmt.Errorf("open audit log: signer: %w", err)
	}
	opts.Origin, opts.Signer = origin, signer
	if opts.CheckpointEvery == 0 {
		opts.CheckpointEvery = d.Config.Audit.CheckpointInterval
	}
	log, err := audit.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return log, nil
}

// AuditArchiver returns the archiver that copies the deployment's audit
// trail to obj, sealed with the keystore, and applies the configured
// online period and retention. Start it with its Run method once the log
// is open.
func (d *Deployment) AuditArchiver(ctx context.Context, obj objstore.Store,
	log *slog.Logger) (*audit.Archiver, error) {
	origin, err := d.auditOrigin()
	if err != nil {
		return nil, fmt.Errorf("audit archive: %w", err)
	}
	if err := d.ensureArchiveKey(ctx, audit.ArchiveOwner(origin)); err != nil {
		return nil, err
	}
	return audit.NewArchiver(d.AuditDir(), audit.ArchiveOptions{Store: obj, Sealer: d.Keys, Origin: origin,
		Every: d.Config.Audit.ShipInterval, Online: d.Config.Audit.Online, Retention: d.Config.Audit.Retention,
		Logger: log})
}

// ensureArchiveKey gives the audit archive a data key of its own in the
// backup domain, the first time.
func (d *Deployment) ensureArchiveKey(ctx context.Context, owner string) error {
	_, err := d.Keys.OwnerKeyID(ctx, envelope.Backup, owner)
	if !errors.Is(err, keys.ErrNoActiveKey) {
		return err
	}
	dk, err := d.Keys.NewDataKey(ctx, envelope.Backup)
	if err != nil {
		return fmt.Errorf("audit archive key: %w", err)
	}
	if err := d.DB.Write(ctx, func(tx sqldb.Tx) error { return d.Keys.Assign(ctx, tx, dk, owner) }); err != nil {
		return fmt.Errorf("audit archive key: %w", err)
	}
	d.Keys.Assigned(dk, owner)
	return nil
}

// auditOrigin returns the origin of the log in the audit directory, or
// for a new log the configured one. A log whose origin differs from the
// configured one is refused: its checkpoints and objects carry the name
// it was created with.
func (d *Deployment) auditOrigin() (string, error) {
	origin, err := audit.LogOrigin(d.AuditDir())
	if err != nil {
		return "", err
	}
	want := d.Config.Audit.Origin
	switch {
	case origin == "" && want == "":
		return audit.DefaultOrigin, nil
	case origin == "":
		return want, nil
	case want != "" && want != origin:
		return "", fmt.Errorf("the audit log's origin is %q, not the configured %q", origin, want)
	}
	return origin, nil
}
