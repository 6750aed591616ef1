package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// Lockout and session policy.
const (
	// MaxFailures failed sign-ins in a row lock an account for LockoutFor.
	MaxFailures = 10
	LockoutFor  = 30 * time.Minute
	// A session ends after SessionIdle without a request, and SessionMax
	// after sign-in whatever its use.
	SessionIdle = 15 * time.Minute
	SessionMax  = 12 * time.Hour
)

// SignIn is what a person presents: name, password, and either a TOTP code
// or one of their recovery codes in Code.
type SignIn struct {
	Name     string
	Password string
	Code     string
}

// Session is a signed-in person's session, without its token.
type Session struct {
	PrincipalID string
	CreatedAt   time.Time
	ExpiresAt   time.Time // the absolute end; idleness may end it sooner
}

// signInRow is what one sign-in reads.
type signInRow struct {
	p           *Principal
	hash        string
	secret      string
	lastStep    int64
	failures    int64
	lockedUntil int64
}

// SignIn checks a person's password and second factor and opens a
// session. Every refusal is ErrUnauthenticated and costs one password
// hash, whatever its reason: unknown name, service, disabled, no TOTP
// enrolled, wrong password, wrong or replayed code, used recovery code, or
// a locked account. Each refusal of a known person counts towards the
// lockout; the attempt that reaches MaxFailures locks the account, and a
// locked account refuses even the right credentials until LockoutFor has
// passed.
func (d *Directory) SignIn(ctx context.Context, in SignIn) (Token, *Session, error) {
	row, err := d.loadSignIn(ctx, in.Name)
	if err != nil {
		return Token{}, nil, fmt.Errorf("sign in: %w", err)
	}
	release, err := d.hashSlot(ctx)
	if err != nil {
		return Token{}, nil, fmt.Errorf("sign in: %w", err)
	}
	if row == nil || len(in.Password) > MaxPasswordLen {
		burnPassword(in.Password[:min(len(in.Password), MaxPasswordLen)], d.cost())
		release()
		return Token{}, nil, ErrUnauthenticated
	}
	pwOK := verifyPassword(in.Password, row.hash)
	release()
	if row.secret, err = d.loadSecret(ctx, row.p.ID, row.secret); err != nil {
		return Token{}, nil, fmt.Errorf("sign in: %w", err)
	}
	now := d.clock()
	locked := row.lockedUntil > sqldb.Micros(now)

	var totpStep int64
	var recovery []byte
	secondOK := false
	if st, ok := matchTOTP(row.secret, in.Code, now, row.lastStep); ok {
		totpStep, secondOK = st, true
	} else if c, ok := normalizeRecoveryCode(in.Code); ok {
		recovery, secondOK = recoveryHash(c), true
	}
	if locked || !pwOK || !secondOK || row.secret == "" {
		// A locked account takes the same path as a wrong password; the
		// count does not move while the lock holds.
		return Token{}, nil, d.signInFailed(ctx, row.p.ID, now)
	}

	tok, hash, err := newToken(SessionPrefix)
	if err != nil {
		return Token{}, nil, fmt.Errorf("sign in: %w", err)
	}
	s := &Session{PrincipalID: row.p.ID, CreatedAt: now, ExpiresAt: now.Add(SessionMax)}
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		return acceptSignIn(ctx, tx, s, hash, totpStep, recovery)
	})
	if errors.Is(err, errRejected) {
		return Token{}, nil, d.signInFailed(ctx, row.p.ID, now)
	}
	if err != nil {
		return Token{}, nil, fmt.Errorf("sign in: %w", err)
	}
	return tok, s, nil
}

// errRejected rolls back a sign-in that a concurrent attempt overtook.
var errRejected = errors.New("identity: sign-in rejected")

// acceptSignIn resets the failure count, spends the second factor and
// stores the session. Its conditions re-check, inside the transaction, what
// was read before hashing: a concurrent attempt may have used the code or
// locked the account meanwhile; then it returns errRejected.
func acceptSignIn(ctx context.Context, tx sqldb.Tx, s *Session, hash []byte, step int64, recovery []byte) error {
	now := sqldb.Micros(s.CreatedAt)
	const unlocked = " WHERE principal_id = ? AND (locked_until IS NULL OR locked_until <= ?)"
	var n int64
	var err error
	if recovery == nil {
		n, err = tx.Exec(ctx, "UPDATE identity_credentials SET failures = 0, locked_until = NULL,"+
			" totp_last_step = ?"+unlocked+" AND totp_last_step < ?", step, s.PrincipalID, now, step)
	} else {
		n, err = tx.Exec(ctx, "UPDATE identity_credentials SET failures = 0, locked_until = NULL"+
			unlocked, s.PrincipalID, now)
		if err == nil && n == 1 {
			n, err = tx.Exec(ctx, "UPDATE identity_recovery_codes SET used_at = ?"+
				" WHERE principal_id = ? AND hash = ? AND used_at IS NULL", now, s.PrincipalID, recovery)
		}
	}
	if err != nil {
		return err
	}
	if n != 1 {
		return errRejected
	}
	// Sessions past their absolute end are dropped as new ones open, a
	// day late so that sign-outs and audits can still find recent ones.
	if _, err := tx.Exec(ctx, "DELETE FROM identity_sessions WHERE expires_at < ?",
		now-(24*time.Hour).Microseconds()); err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO identity_sessions (hash, principal_id, created_at,"+
		" last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?)", hash, s.PrincipalID,
		now, now, sqldb.Micros(s.ExpiresAt))
	return err
}

// loadSignIn reads the enabled person named name with a password, or
// returns nil.
func (d *Directory) loadSignIn(ctx context.Context, name string) (*signInRow, error) {
	if checkName(name) != nil {
		return nil, nil
	}
	var row *signInRow
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		r := &signInRow{}
		var err error
		r.p, err = scanPrincipal(tx.QueryRow(ctx, "SELECT p.id, p.name, p.kind, p.roles, p.created_at,"+
			" COALESCE(p.disabled_at, 0), c.password_hash, COALESCE(c.totp_secret, ''),"+
			" c.totp_last_step, c.failures, COALESCE(c.locked_until, 0)"+
			" FROM identity_principals p JOIN identity_credentials c ON c.principal_id = p.id"+
			" WHERE p.name = ? AND c.password_hash IS NOT NULL", name),
			&r.hash, &r.secret, &r.lastStep, &r.failures, &r.lockedUntil)
		if errors.Is(err, sqldb.ErrNoRows) {
			row = nil
			return nil
		}
		if err != nil {
			return err
		}
		if r.p.Kind == KindPerson && r.p.Enabled() {
			row = r
		}
		return nil
	})
	return row, err
}

// signInFailed counts a failure and locks the account at MaxFailures. A
// lock that has run out starts the count again. It returns
// ErrUnauthenticated, or the error of the write.
func (d *Directory) signInFailed(ctx context.Context, id string, now time.Time) error {
	us := sqldb.Micros(now)
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE identity_credentials SET"+
			" failures = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN 1"+
			" ELSE failures + 1 END,"+
			" locked_until = CASE WHEN locked_until IS NOT NULL AND locked_until <= ? THEN NULL"+
			" ELSE locked_until END WHERE principal_id = ? AND (locked_until IS NULL OR locked_until <= ?)",
			us, us, id, us)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE identity_credentials SET locked_until = ?"+
			" WHERE principal_id = ? AND failures >= ? AND locked_until IS NULL",
			sqldb.Micros(now.Add(LockoutFor)), id, MaxFailures)
		return err
	})
	if err != nil {
		return fmt.Errorf("sign in: record failure: %w", err)
	}
	return ErrUnauthenticated
}

// AuthenticateSession returns the person whose live session token is,
// and marks the session used. Every rejection (malformed, unknown,
// revoked, idle for SessionIdle, older than SessionMax, principal
// disabled) is ErrUnauthenticated.
func (d *Directory) AuthenticateSession(ctx context.Context, token string) (*Principal, error) {
	hash, ok := tokenHash(SessionPrefix, token)
	if !ok {
		return nil, ErrUnauthenticated
	}
	now := d.clock()
	us := sqldb.Micros(now)
	var p *Principal
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		p = nil
		var lastSeen, expires, revoked int64
		q, err := scanPrincipal(tx.QueryRow(ctx, "SELECT p.id, p.name, p.kind, p.roles, p.created_at,"+
			" COALESCE(p.disabled_at, 0), s.last_seen_at, s.expires_at, COALESCE(s.revoked_at, 0)"+
			" FROM identity_sessions s JOIN identity_principals p ON p.id = s.principal_id"+
			" WHERE s.hash = ?", hash), &lastSeen, &expires, &revoked)
		if errors.Is(err, sqldb.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if revoked != 0 || us >= expires || us-lastSeen >= SessionIdle.Microseconds() ||
			us < lastSeen || !q.Enabled() {
			return nil
		}
		if _, err := tx.Exec(ctx, "UPDATE identity_sessions SET last_seen_at = ? WHERE hash = ?",
			us, hash); err != nil {
			return err
		}
		p = q
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("authenticate session: %w", err)
	}
	if p == nil {
		return nil, ErrUnauthenticated
	}
	return p, nil
}

// EndSession revokes the session token opens. An unknown or already
// ended session is ErrNotFound.
func (d *Directory) EndSession(ctx context.Context, token string) error {
	hash, ok := tokenHash(SessionPrefix, token)
	if !ok {
		return fmt.Errorf("end session: %w", ErrNotFound)
	}
	var n int64
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		var err error
		n, err = tx.Exec(ctx, "UPDATE identity_sessions SET revoked_at = ? WHERE hash = ?"+
			" AND revoked_at IS NULL", sqldb.Micros(d.clock()), hash)
		return err
	})
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("end session: %w", ErrNotFound)
	}
	return nil
}

// EndSessions revokes every live session of the principal with id and
// returns how many there were.
func (d *Directory) EndSessions(ctx context.Context, id string) (int64, error) {
	var n int64
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		var err error
		n, err = tx.Exec(ctx, "UPDATE identity_sessions SET revoked_at = ? WHERE principal_id = ?"+
			" AND revoked_at IS NULL", sqldb.Micros(d.clock()), id)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("end sessions of %s: %w", id, err)
	}
	return n, nil
}
