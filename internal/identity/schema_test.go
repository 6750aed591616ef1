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

// TestMigrationsFromVersion1 upgrades a directory created by the first
// schema: its principal survives and can then be given a password, which
// lives in the second version's tables.
func TestMigrationsFromVersion1(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		if err := h.Migrate(ctx, Component, Migrations[:1]); err != nil {
			t.Fatal(err)
		}
		const id = "prn_aaaaaaaaaaaaaaaaaaaaaaaaaa"
		err := h.Write(ctx, func(tx sqldb.Tx) error {
			_, err := tx.Exec(ctx, "INSERT INTO identity_principals (id, name, kind, roles, created_at)"+
				" VALUES (?, 'grace', 'person', 'developer', 1)", id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}

		d, _ := openDir(t, h)
		if v, err := sqldb.AppliedVersion(ctx, h, Component); err != nil || v != len(Migrations) {
			t.Fatalf("after Open: version %d, %v; want %d", v, err, len(Migrations))
		}
		p, err := d.GetPrincipal(ctx, id)
		if err != nil || p.Name != "grace" || p.Kind != KindPerson {
			t.Fatalf("principal from version 1: %+v, %v", p, err)
		}
		if err := d.SetPassword(ctx, id, testPassword); err != nil {
			t.Fatalf("password for a principal from version 1: %v", err)
		}
	})
}
