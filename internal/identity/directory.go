package identity

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// Directory is the store of principals and API keys. It is safe for
// concurrent use, and any number of nodes may open one over the same
// database.
type Directory struct {
	db  sqldb.DB
	now func() time.Time // replaced in tests

	mu       sync.Mutex
	lastUsed map[string]time.Time // key id -> last use this node recorded

	verified verifiedCache
	argon    Argon2Params // zero: DefaultArgon2
	// hashing bounds the password hashes running at once, so that a burst
	// of sign-ins queues instead of taking 64 MiB each without limit.
	hashing chan struct{}
	sealer  SecretSealer // nil: TOTP secrets are stored unsealed
}

// Open migrates db's identity tables and returns the directory over them.
func Open(ctx context.Context, db sqldb.DB) (*Directory, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return nil, fmt.Errorf("open identity directory: %w", err)
	}
	return &Directory{db: db, now: time.Now, lastUsed: make(map[string]time.Time),
		hashing: make(chan struct{}, runtime.GOMAXPROCS(0))}, nil
}

// clock returns the current time at the precision it is stored with.
func (d *Directory) clock() time.Time {
	return sqldb.FromMicros(sqldb.Micros(d.now()))
}

// CreatePrincipal adds a principal. It returns an *InvalidError for a bad
// name, kind or role, and ErrExists if the name is taken.
func (d *Directory) CreatePrincipal(
	ctx context.Context, name string, kind Kind, roles []Role,
) (*Principal, error) {
	p, err := d.newPrincipal(name, kind, roles)
	if err != nil {
		return nil, fmt.Errorf("create principal: %w", err)
	}
	err = d.db.Write(ctx, func(tx sqldb.Tx) error { return insertPrincipal(ctx, tx, p) })
	if sqldb.IsUniqueViolation(err) {
		return nil, fmt.Errorf("create principal %s: %w", name, ErrExists)
	}
	if err != nil {
		return nil, fmt.Errorf("create principal %s: %w", name, err)
	}
	return p, nil
}

func (d *Directory) newPrincipal(name string, kind Kind, roles []Role) (*Principal, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	if err := checkKind(kind); err != nil {
		return nil, err
	}
	roles, err := normalizeRoles(roles)
	if err != nil {
		return nil, err
	}
	id, err := newPrincipalID()
	if err != nil {
		return nil, err
	}
	return &Principal{ID: id, Name: name, Kind: kind, Roles: roles, CreatedAt: d.clock()}, nil
}

func insertPrincipal(ctx context.Context, tx sqldb.Tx, p *Principal) error {
	_, err := tx.Exec(ctx, "INSERT INTO identity_principals (id, name, kind, roles, created_at)"+
		" VALUES (?, ?, ?, ?, ?)", p.ID, p.Name, string(p.Kind), encodeRoles(p.Roles),
		sqldb.Micros(p.CreatedAt))
	return err
}

// GetPrincipal returns the principal with id and its keys' metadata, or
// ErrNotFound.
func (d *Directory) GetPrincipal(ctx context.Context, id string) (*Principal, error) {
	if !validPrincipalID(id) {
		return nil, fmt.Errorf("get principal: %w", ErrNotFound)
	}
	var p *Principal
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		var err error
		if p, err = loadPrincipal(ctx, tx, id); err != nil {
			return err
		}
		p.Keys, err = loadKeys(ctx, tx, qKeysOf, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get principal %s: %w", id, err)
	}
	return p, nil
}

// ListPrincipals returns every principal, by name, each with its keys'
// metadata.
func (d *Directory) ListPrincipals(ctx context.Context) ([]Principal, error) {
	var out []Principal
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, qPrincipals)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			p, err := scanPrincipal(rows)
			if err != nil {
				return err
			}
			out = append(out, *p)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		keys, err := loadKeys(ctx, tx, qAllKeys)
		if err != nil {
			return err
		}
		byID := make(map[string]*Principal, len(out))
		for i := range out {
			byID[out[i].ID] = &out[i]
		}
		for _, k := range keys {
			if p := byID[k.PrincipalID]; p != nil {
				p.Keys = append(p.Keys, k)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list principals: %w", err)
	}
	return out, nil
}

// DisablePrincipal disables the principal with id, or returns ErrNotFound.
// Its keys stay as they are but no longer authenticate, nor does its
// certificate. Disabling a disabled principal changes nothing.
func (d *Directory) DisablePrincipal(ctx context.Context, id string) error {
	if !validPrincipalID(id) {
		return fmt.Errorf("disable principal: %w", ErrNotFound)
	}
	now := d.clock()
	err := d.db.Write(ctx, func(tx sqldb.Tx) error {
		return markOnce(ctx, tx, "identity_principals", "disabled_at", id, now)
	})
	if err != nil {
		return fmt.Errorf("disable principal %s: %w", id, err)
	}
	d.verified.forgetPrincipal(id)
	return nil
}

// markOnce sets a NULL time column of row id, leaves a set one alone, and
// returns ErrNotFound if there is no such row.
func markOnce(ctx context.Context, tx sqldb.Tx, table, column, id string, at time.Time) error {
	n, err := tx.Exec(ctx, "UPDATE "+table+" SET "+column+" = ? WHERE id = ? AND "+column+
		" IS NULL", sqldb.Micros(at), id)
	if err != nil || n > 0 {
		return err
	}
	var count int64
	err = tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+table+" WHERE id = ?", id).Scan(&count)
	if err == nil && count == 0 {
		err = ErrNotFound
	}
	return err
}

type scanner interface{ Scan(dest ...any) error }

func scanPrincipal(s scanner, extra ...any) (*Principal, error) {
	var (
		p                   Principal
		kind, roles         string
		created, disabledAt int64
	)
	dest := append([]any{&p.ID, &p.Name, &kind, &roles, &created, &disabledAt}, extra...)
	if err := s.Scan(dest...); err != nil {
		return nil, err
	}
	var err error
	if p.Roles, err = decodeRoles(roles); err != nil {
		return nil, err
	}
	p.Kind = Kind(kind)
	if checkKind(p.Kind) != nil {
		return nil, fmt.Errorf("read principal %s: unknown kind %q", p.ID, kind)
	}
	p.CreatedAt = sqldb.FromMicros(created)
	p.DisabledAt = fromNullMicros(disabledAt)
	return &p, nil
}

func loadPrincipal(ctx context.Context, tx sqldb.Tx, id string) (*Principal, error) {
	p, err := scanPrincipal(tx.QueryRow(ctx, qPrincipal, id))
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNotFound
	}
	return p, err
}

// fromNullMicros reads a nullable time column selected as COALESCE(c, 0).
func fromNullMicros(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return sqldb.FromMicros(us)
}

// nullMicros gives the stored form of a time that may be zero.
func nullMicros(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return sqldb.Micros(t)
}
