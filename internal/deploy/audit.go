package deploy

import (
	"fmt"
	"path/filepath"

	"github.com/securecart/securecart/internal/audit"
)

// AuditDir is the deployment's audit log directory.
func (d *Deployment) AuditDir() string {
	return filepath.Join(d.Config.DataDir, audit.DirName)
}

// OpenAudit opens the deployment's audit log for appending, its
// checkpoints signed with the keystore's audit-signing key under the
// log's origin (audit.DefaultOrigin for a new log). Only one process may
// have it open: audit.ErrLocked says another does.
func (d *Deployment) OpenAudit(opts audit.Options) (*audit.Log, error) {
	dir := d.AuditDir()
	origin, err := audit.LogOrigin(dir)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	if origin == "" {
		origin = audit.DefaultOrigin
	}
	signer, err := d.Keys.AuditSigner(origin)
	if err != nil {
		return nil, fmt.Errorf("open audit log: signer: %w", err)
	}
	opts.Origin, opts.Signer = origin, signer
	log, err := audit.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open audit log: %w", err)
	}
	return log, nil
}
