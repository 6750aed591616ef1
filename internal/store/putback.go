package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// ErrErased means a customer's data key was destroyed: the customer was
// erased, and erasure is final.
var ErrErased = errors.New("store: the customer was erased; its data key is destroyed")

// PutBackCustomer writes c, a customer as a backup held it, into the
// store under its own id: over the live customer when it exists (as an
// update, so the version moves on), or as a new row when the row is gone
// but the customer's data key still lives. A customer whose key was
// destroyed is ErrErased. The write carries its change record like any
// other. It reports whether the row was created.
func (s *Store) PutBackCustomer(ctx context.Context, c *Customer) (*Customer, bool, error) {
	if !validID("cus", c.ID) {
		return nil, false, ErrNotFound
	}
	n := NewCustomer{Name: c.Name, Email: c.Email, Phone: c.Phone, Address: c.Address}
	email, err := n.check()
	if err != nil {
		return nil, false, err
	}
	if other, err := s.findByEmail(ctx, email); err == nil && other.ID != c.ID {
		return nil, false, ErrDuplicate
	} else if err != nil && !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}

	live, err := s.GetCustomer(ctx, c.ID)
	if err == nil {
		addr := c.Address
		got, err := s.UpdateCustomer(ctx, c.ID, live.Version, CustomerPatch{Name: &n.Name, Email: &email,
			Phone: &n.Phone, Address: &addr})
		if errors.Is(err, ErrNotFound) {
			return nil, false, ErrErased
		}
		return got, false, err
	}
	if !errors.Is(err, ErrNotFound) {
		return nil, false, err
	}
	got, err := s.insertPutBack(ctx, c, email)
	return got, err == nil, err
}

// insertPutBack inserts a customer row under the key its owner still has.
func (s *Store) insertPutBack(ctx context.Context, c *Customer, email string) (*Customer, error) {
	token, err := s.sec.BlindToken(emailField, []byte(email))
	if err != nil {
		return nil, err
	}
	now := sqldb.Micros(s.now())
	addr, _ := json.Marshal(c.Address)
	row := &customerRow{ID: c.ID, EmailBidx: token, BidxVersion: int64(keys.BlindVersion(token)),
		CreatedAt: sqldb.Micros(c.CreatedAt), LastActivity: now, Version: c.Version + 1}
	for _, f := range []struct {
		col string
		dst *[]byte
		v   []byte
	}{{"name", &row.Name, []byte(c.Name)}, {"email", &row.Email, []byte(email)},
		{"phone", &row.Phone, []byte(c.Phone)}, {"address", &row.Address, addr}} {
		*f.dst, err = s.sec.SealFor(ctx, envelope.CustomerPII, c.ID, bind("customers", f.col, c.ID), f.v)
		if errors.Is(err, keys.ErrNoActiveKey) {
			return nil, ErrErased
		}
		if err != nil {
			return nil, err
		}
	}
	err = s.write(ctx, func(w *wtx) error {
		if err := w.insert(ctx, "customers", row.columns()); err != nil {
			return err
		}
		return w.record("customers", c.ID, "insert", row)
	})
	if err != nil {
		return nil, fmt.Errorf("put back customer: %w", err)
	}
	return s.openCustomer(ctx, row)
}
