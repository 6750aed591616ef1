package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// A read asked for by a caller that has gone away does not run, on either
// engine, even where the read itself is not watched for cancellation.
func TestGetCustomerAfterCancel(t *testing.T) {
	forEachEngine(t, func(t *testing.T, eng sqldbtest.Engine) {
		e := newEnv(t, eng, keys.Config{})
		c := e.customer()

		ctx, cancel := context.WithCancel(e.ctx)
		cancel()
		got, err := e.s.GetCustomer(ctx, c.ID)
		if !errors.Is(err, context.Canceled) || got != nil {
			t.Fatalf("GetCustomer after cancel = %v, %v; want context.Canceled", got, err)
		}

		got, err = e.s.GetCustomer(e.ctx, c.ID)
		if err != nil || got.Email != c.Email {
			t.Fatalf("GetCustomer = %v, %v", got, err)
		}
	})
}
