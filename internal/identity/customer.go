package identity

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// CustomerTokenTTL is how long a customer token lasts. It cannot be
// renewed: the storefront asks for a new one.
const CustomerTokenTTL = 15 * time.Minute

const maxCustomerIDLen = 64

// IssueCustomerToken issues a token that acts for the customer with
// customerID for CustomerTokenTTL, on behalf of the principal issuedBy (the
// storefront's service). The caller checks that the customer exists and
// that issuedBy may ask. It returns the token, once, and its expiry.
func (d *Directory) IssueCustomerToken(
	ctx context.Context, customerID, issuedBy string,
) (Token, time.Time, error) {
	if customerID == "" || len(customerID) > maxCustomerIDLen {
		return Token{}, time.Time{}, fmt.Errorf("issue customer token: %w", invalid("customer", "bad id"))
	}
	tok, hash, err := newToken(CustomerPrefix)
	if err != nil {
		return Token{}, time.Time{}, fmt.Errorf("issue customer token: %w", err)
	}
	now := d.clock()
	expires := now.Add(CustomerTokenTTL)
	err = d.db.Write(ctx, func(tx sqldb.Tx) error {
		// Expired tokens are dropped as new ones are issued.
		if _, err := tx.Exec(ctx, "DELETE FROM identity_customer_tokens WHERE expires_at < ?",
			sqldb.Micros(now.Add(-time.Hour))); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO identity_customer_tokens (hash, customer_id, issued_by,"+
			" created_at, expires_at) VALUES (?, ?, ?, ?, ?)", hash, customerID, issuedBy,
			sqldb.Micros(now), sqldb.Micros(expires))
		return err
	})
	if err != nil {
		return Token{}, time.Time{}, fmt.Errorf("issue customer token: %w", err)
	}
	return tok, expires, nil
}

// AuthenticateCustomer returns the customer id a live customer token acts
// for. Every rejection is ErrUnauthenticated.
func (d *Directory) AuthenticateCustomer(ctx context.Context, token string) (string, error) {
	hash, ok := tokenHash(CustomerPrefix, token)
	if !ok {
		return "", ErrUnauthenticated
	}
	var id string
	var expires int64
	err := d.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT customer_id, expires_at FROM identity_customer_tokens"+
			" WHERE hash = ?", hash).Scan(&id, &expires)
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return "", ErrUnauthenticated
	}
	if err != nil {
		return "", fmt.Errorf("authenticate customer token: %w", err)
	}
	if sqldb.Micros(d.clock()) >= expires {
		return "", ErrUnauthenticated
	}
	return id, nil
}
