package identity

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// CredentialState says what a person has enrolled, without any secret.
type CredentialState struct {
	Password bool
	TOTP     bool // confirmed
	Pending  bool // a TOTP enrolment waits for its confirming code
	// LockedUntil is zero unless the account is locked now.
	LockedUntil time.Time
}

// upsertCredentials makes sure principalID has a credentials row.
const upsertCredentials = "INSERT INTO identity_credentials (principal_id) VALUES (?)" +
	" ON CONFLICT (principal_id) DO NOTHING"

// SetPasswordCost replaces the Argon2id cost of new password hashes on this
// directory: for tests, and for operators who size it to their hardware.
// Call it before the directory is used. Existing hashes keep the cost they
// were made with.
func (d *Directory) SetPasswordCost(p Argon2Params) { d.argon = p }

// hashSlot waits for a free hashing slot and returns its release.
func (d *Directory) hashSlot(ctx context.Context) (func(), error) {
	select {
	case d.hashing <- struct{}{}:
		return func() { <-d.hashing }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (d *Directory) cost() Argon2Params {
	if d.argon == (Argon2Params{}) {
		return DefaultArgon2
	}
	return d.argon
}

// loadPerson loads an enabled person principal for a credential change.
func loadPerson(ctx context.Context, tx sqldb.Tx, id string) (*Principal, error) {
	p, err := loadPrincipal(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if p.Kind != KindPerson {
		return nil, invalid("principal", "only people sign in with a password and TOTP")
	}
	if !p.Enabled() {
		return nil, invalid("principal", "is disabled")
	}
	return p, nil
}

// SetPassword sets the password of the person with id after CheckPassword
// accepts it. It also clears the account's lockout and ends its sessions.
func (d *Directory) SetPassword(ctx context.Context, id, password string) error {
	if !validPrincipalID(id) {
		return fmt.Errorf("set password: %w", ErrNotFound)
	}
	var name string
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		p, err := loadPerson(ctx, tx, id)
		if err == nil {
			name = p.Name
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	if err := CheckPassword(name, password); err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	release, err := d.hashSlot(ctx)
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	hash, err := hashPassword(password, d.cost())
	release()
	if err != nil {
		return fmt.Errorf("set password: %w", err)
	}
	now := sqldb.Micros(d.clock())
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		if _, err := loadPerson(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, upsertCredentials, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "UPDATE identity_credentials SET password_hash = ?, failures = 0,"+
			" locked_until = NULL WHERE principal_id = ?", hash, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE identity_sessions SET revoked_at = ? WHERE principal_id = ?"+
			" AND revoked_at IS NULL", now, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password for %s: %w", id, err)
	}
	return nil
}

// Credentials returns what the person with id has enrolled.
func (d *Directory) Credentials(ctx context.Context, id string) (CredentialState, error) {
	var s CredentialState
	if !validPrincipalID(id) {
		return s, fmt.Errorf("credentials: %w", ErrNotFound)
	}
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		if _, err := loadPrincipal(ctx, tx, id); err != nil {
			return err
		}
		var hasPw, hasTOTP, pending int64
		var locked int64
		err := tx.QueryRow(ctx, "SELECT CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END,"+
			" CASE WHEN totp_confirmed_at IS NULL THEN 0 ELSE 1 END,"+
			" CASE WHEN totp_pending IS NULL THEN 0 ELSE 1 END, COALESCE(locked_until, 0)"+
			" FROM identity_credentials WHERE principal_id = ?", id).Scan(&hasPw, &hasTOTP, &pending, &locked)
		if errors.Is(err, sqldb.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		s.Password, s.TOTP, s.Pending = hasPw == 1, hasTOTP == 1, pending == 1
		if locked > sqldb.Micros(d.clock()) {
			s.LockedUntil = sqldb.FromMicros(locked)
		}
		return nil
	})
	if err != nil {
		return s, fmt.Errorf("credentials of %s: %w", id, err)
	}
	return s, nil
}

// BeginTOTP starts a TOTP enrolment for the person with id and returns the
// new secret, once. A confirmed TOTP stays in force until ConfirmTOTP
// replaces it.
func (d *Directory) BeginTOTP(ctx context.Context, id string) (TOTPEnrolment, error) {
	if !validPrincipalID(id) {
		return TOTPEnrolment{}, fmt.Errorf("begin totp: %w", ErrNotFound)
	}
	var p *Principal
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		var err error
		p, err = loadPerson(ctx, tx, id)
		return err
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin totp for %s: %w", id, err)
	}
	e, err := newTOTPSecret(p.Name)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin totp for %s: %w", id, err)
	}
	stored, err := d.storeSecret(ctx, id, e.Secret)
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin totp for %s: %w", id, err)
	}
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		if _, err := loadPerson(ctx, tx, id); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, upsertCredentials, id); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "UPDATE identity_credentials SET totp_pending = ? WHERE principal_id = ?",
			stored, id)
		return err
	})
	if err != nil {
		return TOTPEnrolment{}, fmt.Errorf("begin totp for %s: %w", id, err)
	}
	return e, nil
}

// ConfirmTOTP completes an enrolment with a code from the new secret. It
// returns the person's recovery codes, once; they replace any earlier
// ones. A wrong code is an *InvalidError and leaves the enrolment pending.
//
// When the person holds the admin role and has a password, this is an
// admin who can sign in with MFA, so the bootstrap principal's keys are
// revoked in the same transaction: the bootstrap key exists to enrol the
// first admin and nothing more.
func (d *Directory) ConfirmTOTP(ctx context.Context, id, code string) ([]string, error) {
	if !validPrincipalID(id) {
		return nil, fmt.Errorf("confirm totp: %w", ErrNotFound)
	}
	// The pending secret is read and opened outside the write transaction
	// (opening may read the keystore); the update then requires it to be
	// the same stored value.
	var stored string
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		if _, err := loadPerson(ctx, tx, id); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, "SELECT COALESCE(totp_pending, '') FROM identity_credentials"+
			" WHERE principal_id = ?", id).Scan(&stored)
		if errors.Is(err, sqldb.ErrNoRows) {
			err = nil
		}
		return err
	})
	if err == nil && stored == "" {
		err = invalid("totp", "no enrolment is pending")
	}
	if err != nil {
		return nil, fmt.Errorf("confirm totp for %s: %w", id, err)
	}
	pending, err := d.loadSecret(ctx, id, stored)
	if err != nil {
		return nil, fmt.Errorf("confirm totp for %s: %w", id, err)
	}
	now := d.clock()
	st, ok := matchTOTP(pending, code, now, 0)
	if !ok {
		return nil, fmt.Errorf("confirm totp for %s: %w", id,
			invalid("code", "does not match the new secret"))
	}
	codes, hashes, err := newRecoveryCodes()
	if err != nil {
		return nil, fmt.Errorf("confirm totp: %w", err)
	}
	var bootstrapID string
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		bootstrapID = ""
		p, err := loadPerson(ctx, tx, id)
		if err != nil {
			return err
		}
		n, err := tx.Exec(ctx, "UPDATE identity_credentials SET totp_secret = totp_pending,"+
			" totp_pending = NULL, totp_confirmed_at = ?, totp_last_step = ?"+
			" WHERE principal_id = ? AND totp_pending = ?", sqldb.Micros(now), st, id, stored)
		if err != nil {
			return err
		}
		if n != 1 {
			return invalid("totp", "the enrolment changed meanwhile; start again")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM identity_recovery_codes WHERE principal_id = ?", id); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.Exec(ctx, "INSERT INTO identity_recovery_codes (principal_id, hash)"+
				" VALUES (?, ?)", id, h); err != nil {
				return err
			}
		}
		var hasPw int64
		if err := tx.QueryRow(ctx, "SELECT CASE WHEN password_hash IS NULL THEN 0 ELSE 1 END"+
			" FROM identity_credentials WHERE principal_id = ?", id).Scan(&hasPw); err != nil {
			return err
		}
		if hasPw == 1 && slices.Contains(p.Roles, RoleAdmin) {
			bootstrapID, err = revokeBootstrapKeys(ctx, tx, now)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("confirm totp for %s: %w", id, err)
	}
	if bootstrapID != "" {
		d.verified.forgetPrincipal(bootstrapID)
	}
	return codes, nil
}

// revokeBootstrapKeys revokes every key of the bootstrap principal and
// returns its id ("" if there is none).
func revokeBootstrapKeys(ctx context.Context, tx sqldb.Tx, now time.Time) (string, error) {
	var id string
	err := tx.QueryRow(ctx, "SELECT id FROM identity_principals WHERE name = ?", BootstrapName).Scan(&id)
	if errors.Is(err, sqldb.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	_, err = tx.Exec(ctx, "UPDATE identity_api_keys SET revoked_at = ? WHERE principal_id = ?"+
		" AND revoked_at IS NULL", sqldb.Micros(now), id)
	return id, err
}
