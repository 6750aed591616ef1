package identity

import (
	"context"
	"testing"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestMigrations(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		if v, err := sqldb.AppliedVersion(ctx, h, Component); err != nil || v != 0 {
			t.Fatalf("empty database at version %d, %v", v, err)
		}
		d, _ := openDir(t, h)
		if v, err := sqldb.AppliedVersion(ctx, h, Component); err != nil || v != len(Migrations) {
			t.Fatalf("after Open: version %d, %v; want %d", v, err, len(Migrations))
		}
		p := mustPrincipal(t, d, "grace", KindPerson, RoleDeveloper)
		k, _ := mustKey(t, d, p.ID, 0)

		// Running the migrations again, on this handle and after a
		// restart, changes nothing and keeps the data.
		if err := h.Migrate(ctx, Component, Migrations); err != nil {
			t.Fatal(err)
		}
		restarted, _ := openDir(t, h.Reopen(t))
		if v, err := sqldb.AppliedVersion(ctx, h, Component); err != nil || v != len(Migrations) {
			t.Fatalf("after re-running: version %d, %v", v, err)
		}
		if got, err := restarted.Authenticate(ctx, k.Reveal()); err != nil || got.ID != p.ID {
			t.Fatalf("after a restart: %v, %v", got, err)
		}
	})
}
