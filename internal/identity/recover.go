package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// RecoveryKeyTTL is how long the enrolment key Recover issues lasts.
const RecoveryKeyTTL = time.Hour

// Recovery is what Recover did.
type Recovery struct {
	// Unlocked names the admin people whose lockout was cleared.
	Unlocked []string
	// Key is a new key of the bootstrap principal, valid for
	// RecoveryKeyTTL: like the first bootstrap key it can only enrol an
	// admin, and enrolling one revokes it. Show it once.
	Key       APIKey
	KeyInfo   *KeyInfo
	Bootstrap string // the bootstrap principal's id
}

// Recover restores a way in for admins when every admin is locked out or
// lost. It clears the lockout of every admin person, and gives the
// bootstrap principal a new enrolment key, creating the principal if it is
// missing and enabling it again if it was disabled: the one case where a
// disabled principal comes back. It is for the local operator, who holds
// the database and the root key; nothing in the API reaches it.
func (d *Directory) Recover(ctx context.Context) (*Recovery, error) {
	ps, err := d.ListPrincipals(ctx)
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	var boot *Principal
	for i := range ps {
		if ps[i].Name == BootstrapName {
			boot = &ps[i]
		}
	}
	if boot == nil {
		if boot, err = d.newPrincipal(BootstrapName, KindService, []Role{RoleAdmin}); err != nil {
			return nil, fmt.Errorf("recover: %w", err)
		}
	}
	key, info, hash, err := d.newKeyFor(boot.ID, RecoveryKeyTTL)
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	r := &Recovery{Key: key, KeyInfo: info, Bootstrap: boot.ID}
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		r.Unlocked = nil
		_, err := loadPrincipal(ctx, tx, boot.ID)
		if errors.Is(err, ErrNotFound) {
			err = insertPrincipal(ctx, tx, boot)
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE identity_principals SET disabled_at = NULL WHERE id = ?",
			boot.ID); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, info, hash); err != nil {
			return err
		}
		for _, p := range ps {
			if p.Kind != KindPerson || !p.HasRole(RoleAdmin) || !p.Enabled() {
				continue
			}
			n, err := tx.Exec(ctx, "UPDATE identity_credentials SET failures = 0, locked_until = NULL"+
				" WHERE principal_id = ? AND (failures > 0 OR locked_until IS NOT NULL)", p.ID)
			if err != nil {
				return err
			}
			if n > 0 {
				r.Unlocked = append(r.Unlocked, p.Name)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	d.verified.forgetPrincipal(boot.ID)
	return r, nil
}

// IsBootstrap reports whether p is the bootstrap principal, whose keys may
// only enrol an admin.
func IsBootstrap(p *Principal) bool {
	return p != nil && p.Name == BootstrapName && p.Kind == KindService
}
