package identity

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestTOTPSecretsSealed(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, keys.Config{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(ks.Close)

		// A secret stored before sealing was turned on keeps working.
		legacy := enrol(t, d, clk, "legacy", RoleDBA)
		d.SetSealer(KeystoreSealer(ks, h.DB))
		ada := enrol(t, d, clk, "ada", RoleDBA)

		stored := func(id string) string {
			t.Helper()
			var s string
			if err := h.Read(ctx, func(tx sqldb.Tx) error {
				return tx.QueryRow(ctx, "SELECT totp_secret FROM identity_credentials WHERE principal_id = ?",
					id).Scan(&s)
			}); err != nil {
				t.Fatal(err)
			}
			return s
		}
		if s := stored(ada.p.ID); !strings.HasPrefix(s, sealedPrefix) || strings.Contains(s, ada.secret) {
			t.Fatalf("stored as %q", s)
		}
		if s := stored(legacy.p.ID); s != legacy.secret {
			t.Fatalf("legacy secret rewritten: %q", s)
		}
		for _, p := range []person{ada, legacy} {
			clk.Advance(totpPeriod)
			if _, _, err := d.SignIn(ctx, SignIn{Name: p.p.Name, Password: testPassword,
				Code: code(t, p.secret, clk)}); err != nil {
				t.Fatalf("%s: %v", p.p.Name, err)
			}
		}

		// A sealed secret moved to another person's row does not open.
		if err := h.Write(ctx, func(tx sqldb.Tx) error {
			_, err := tx.Exec(ctx, "UPDATE identity_credentials SET totp_secret = ? WHERE principal_id = ?",
				stored(ada.p.ID), legacy.p.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(totpPeriod)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "legacy", Password: testPassword,
			Code: code(t, ada.secret, clk)}); err == nil {
			t.Fatal("a secret sealed for ada opened in legacy's row")
		}
	})
}
