package identity

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// TestVerifiedKeys checks what remembering verified keys may and may not
// change: revocation and disabling on this node act at once, on another
// node within VerifiedTTL, and a remembered id never accepts another secret
// or an expired key.
func TestVerifiedKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		a, clk := openDir(t, h)
		b, _ := openDir(t, h.Reopen(t))
		b.now = clk.Now
		p := mustPrincipal(t, a, "storefront", KindService, RoleAppService)
		key, info := mustKey(t, a, p.ID, 0)
		short, _ := mustKey(t, a, p.ID, time.Hour)

		auth := func(d *Directory, k string) error {
			_, err := d.Authenticate(ctx, k)
			return err
		}
		for _, k := range []string{key.Reveal(), short.Reveal()} {
			if err := auth(a, k); err != nil {
				t.Fatal(err)
			}
		}
		// Same key id, another secret.
		forged := key.Reveal()[:len(keyPrefix(info.ID))] + "A" + key.Reveal()[len(keyPrefix(info.ID))+1:]
		if forged != key.Reveal() && !errors.Is(auth(a, forged), ErrUnauthenticated) {
			t.Fatal("a remembered key id accepted another secret")
		}

		// Revoked on another node: still accepted here until VerifiedTTL.
		if err := b.RevokeKey(ctx, info.ID); err != nil {
			t.Fatal(err)
		}
		if err := auth(a, key.Reveal()); err != nil {
			t.Fatalf("within VerifiedTTL: %v", err)
		}
		clk.Advance(VerifiedTTL)
		if !errors.Is(auth(a, key.Reveal()), ErrUnauthenticated) {
			t.Fatal("a key revoked on another node still works after VerifiedTTL")
		}

		// Expiry is checked on the remembered entry too.
		if err := auth(a, short.Reveal()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Hour)
		if !errors.Is(auth(a, short.Reveal()), ErrUnauthenticated) {
			t.Fatal("an expired key was accepted from memory")
		}

		// Disabled on this node: refused at once.
		q := mustPrincipal(t, a, "reports", KindService, RoleDeveloper)
		qk, _ := mustKey(t, a, q.ID, 0)
		if err := auth(a, qk.Reveal()); err != nil {
			t.Fatal(err)
		}
		if err := a.DisablePrincipal(ctx, q.ID); err != nil {
			t.Fatal(err)
		}
		if !errors.Is(auth(a, qk.Reveal()), ErrUnauthenticated) {
			t.Fatal("a principal disabled on this node still authenticates")
		}
	})
}
