package identity

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/tlsca"
)

// BootstrapName is the name of the principal EnsureBootstrap creates.
const BootstrapName = "bootstrap-admin"

// EnsureBootstrap creates, in a directory without principals, the admin
// BootstrapName with one key that does not expire, and returns that key and
// true. It is a service principal: it belongs to no person, and the default
// policies let a service admin act without MFA, which no one can present
// before the first person has enrolled. In a directory that has principals
// it returns no key and false. Of concurrent calls, on one node or several,
// exactly one returns true.
func (d *Directory) EnsureBootstrap(ctx context.Context) (APIKey, bool, error) {
	var n int64
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, qCountPrincipals).Scan(&n)
	})
	if err != nil {
		return APIKey{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	if n > 0 {
		return APIKey{}, false, nil
	}

	p, err := d.newPrincipal(BootstrapName, KindService, []Role{RoleAdmin})
	if err != nil {
		return APIKey{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	key, info, hash, err := d.newKeyFor(p.ID, 0)
	if err != nil {
		return APIKey{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	var created bool
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		created = false
		var n int64
		err := tx.QueryRow(ctx, qCountPrincipals).Scan(&n)
		if err != nil || n > 0 {
			return err
		}
		if err := insertPrincipal(ctx, tx, p); err != nil {
			return err
		}
		if err := insertKey(ctx, tx, info, hash); err != nil {
			return err
		}
		created = true
		return nil
	})
	// On PostgreSQL, two nodes can both count no principals; the unique
	// name then lets only the first insert commit.
	if sqldb.IsUniqueViolation(err) {
		return APIKey{}, false, nil
	}
	if err != nil {
		return APIKey{}, false, fmt.Errorf("bootstrap: %w", err)
	}
	if !created {
		return APIKey{}, false, nil
	}
	return key, true, nil
}

// PrincipalForCert returns the enabled service principal that a client
// certificate names, after ca has verified the certificate. Anything else
// (no certificate, one ca does not vouch for, an unknown, disabled or
// person principal) is ErrUnauthenticated.
func (d *Directory) PrincipalForCert(
	ctx context.Context, cert *x509.Certificate, ca *tlsca.CA,
) (*Principal, error) {
	if cert == nil || ca == nil {
		return nil, ErrUnauthenticated
	}
	id, ok := ca.PrincipalFromCert(cert)
	if !ok || !validPrincipalID(id) {
		return nil, ErrUnauthenticated
	}
	var p *Principal
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		var err error
		p, err = loadPrincipal(ctx, tx, id)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate certificate: %w", err)
	}
	if p.Kind != KindService || !p.Enabled() {
		return nil, ErrUnauthenticated
	}
	return p, nil
}
