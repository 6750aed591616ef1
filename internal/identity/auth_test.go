package identity

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestAuthenticate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		dba := mustPrincipal(t, d, "dana", KindPerson, RoleDBA)
		good, _ := mustKey(t, d, dba.ID, 0)
		expiring, _ := mustKey(t, d, dba.ID, time.Hour)
		revoked, revokedInfo := mustKey(t, d, dba.ID, 0)
		if err := d.RevokeKey(ctx, revokedInfo.ID); err != nil {
			t.Fatal(err)
		}
		gone := mustPrincipal(t, d, "gone", KindService, RoleAppService)
		goneKey, _ := mustKey(t, d, gone.ID, 0)
		if err := d.DisablePrincipal(ctx, gone.ID); err != nil {
			t.Fatal(err)
		}
		unknown, _, _ := newKey()
		otherSecret, _, _ := newKey()

		p, err := d.Authenticate(ctx, good.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if p.ID != dba.ID || p.Name != "dana" || !reflect.DeepEqual(p.Roles, []Role{RoleDBA}) {
			t.Errorf("authenticated as %+v, want %+v", p, dba)
		}
		if p, err := d.Authenticate(ctx, expiring.Reveal()); err != nil || p.ID != dba.ID {
			t.Errorf("unexpired key: %v", err)
		}

		clk.Advance(time.Hour)
		failures := []struct{ name, key string }{
			{"empty", ""},
			{"malformed", "not a key"},
			{"over-long", good.Reveal() + strings.Repeat("x", 1<<16)},
			{"unknown id", unknown.Reveal()},
			{"wrong secret", good.Prefix() + otherSecret.Reveal()[17:]},
			{"expired", expiring.Reveal()},
			{"revoked", revoked.Reveal()},
			{"principal disabled", goneKey.Reveal()},
		}
		for _, tt := range failures {
			t.Run(tt.name, func(t *testing.T) {
				p, err := d.Authenticate(ctx, tt.key)
				if err != ErrUnauthenticated || p != nil {
					t.Fatalf("got %v, %v; want exactly ErrUnauthenticated", p, err)
				}
				if len(tt.key) > 17 && strings.Contains(err.Error(), tt.key[17:]) {
					t.Error("the error repeats the presented key")
				}
			})
		}
		if _, err := d.Authenticate(ctx, good.Reveal()); err != nil {
			t.Errorf("the good key stopped working after the failures: %v", err)
		}
	})
}

func TestExpiryBoundary(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		p := mustPrincipal(t, d, "svc", KindService, RoleAppService)
		k, info := mustKey(t, d, p.ID, 10*time.Minute)

		clk.Advance(10*time.Minute - time.Microsecond)
		if _, err := d.Authenticate(ctx, k.Reveal()); err != nil {
			t.Fatalf("a microsecond before expiry: %v", err)
		}
		if !info.Active(clk.Now()) {
			t.Error("Active says expired before ExpiresAt")
		}
		clk.Advance(time.Microsecond)
		if _, err := d.Authenticate(ctx, k.Reveal()); err != ErrUnauthenticated {
			t.Fatalf("at expiry: got %v", err)
		}
		if info.Active(clk.Now()) {
			t.Error("Active says live at ExpiresAt")
		}
	})
}

func TestLastUsedAtMostOncePerMinute(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		db := &countingDB{DB: h}
		d, clk := openDir(t, db)
		p := mustPrincipal(t, d, "busy", KindService, RoleAppService)
		k, _ := mustKey(t, d, p.ID, 0)
		start := clk.Now()

		lastUsed := func() time.Time {
			t.Helper()
			got, err := d.GetPrincipal(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			return got.Keys[0].LastUsedAt
		}
		if !lastUsed().IsZero() {
			t.Fatal("a new key has a last use")
		}

		before := db.writes.Load()
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for range 25 {
					if _, err := d.Authenticate(ctx, k.Reveal()); err != nil {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		if n := db.writes.Load() - before; n != 1 {
			t.Errorf("200 requests in a minute made %d writes, want 1", n)
		}
		if got := lastUsed(); !got.Equal(start) {
			t.Errorf("last used %v, want %v", got, start)
		}

		clk.Advance(59 * time.Second)
		d.Authenticate(ctx, k.Reveal())
		if got := lastUsed(); !got.Equal(start) {
			t.Errorf("after 59s last used moved to %v", got)
		}

		// Another node has no memory of the write and goes by the table.
		other, _ := openDir(t, db)
		other.now = clk.Now
		before = db.writes.Load()
		other.Authenticate(ctx, k.Reveal())
		if n := db.writes.Load() - before; n != 0 {
			t.Errorf("another node wrote a fresh last use again (%d writes)", n)
		}

		clk.Advance(time.Second)
		d.Authenticate(ctx, k.Reveal())
		if got := lastUsed(); !got.Equal(start.Add(time.Minute)) {
			t.Errorf("after a minute last used is %v, want %v", got, start.Add(time.Minute))
		}
	})
}

func TestOnlyHashesStored(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, _ := openDir(t, h)
		p := mustPrincipal(t, d, "erin", KindPerson, RoleSecurity)
		k, _ := mustKey(t, d, p.ID, time.Hour)
		if _, err := d.Authenticate(ctx, k.Reveal()); err != nil {
			t.Fatal(err)
		}
		secretText := k.Reveal()[17:]
		secret, _ := base64.RawURLEncoding.DecodeString(secretText)

		var rowCount int
		err := h.Read(ctx, func(tx sqldb.Tx) error {
			rows, err := tx.Query(ctx, "SELECT id, principal_id, prefix, hash, created_at,"+
				" COALESCE(expires_at, 0), COALESCE(revoked_at, 0), COALESCE(last_used_at, 0)"+
				" FROM identity_api_keys")
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				rowCount++
				var id, pid, prefix string
				var hash []byte
				var a, b, c, e int64
				if err := rows.Scan(&id, &pid, &prefix, &hash, &a, &b, &c, &e); err != nil {
					return err
				}
				for _, s := range []string{id, pid, prefix, string(hash)} {
					if strings.Contains(s, secretText) || bytes.Contains([]byte(s), secret) {
						t.Errorf("a stored column holds the secret")
					}
				}
				if !bytes.Equal(hash, hashSecret(secret)) {
					t.Errorf("stored hash is not SHA-256 of the secret")
				}
			}
			return rows.Err()
		})
		if err != nil || rowCount != 1 {
			t.Fatalf("read %d key rows: %v", rowCount, err)
		}

		if h.Engine() == sqldb.SQLite {
			for _, path := range []string{h.Path, h.Path + "-wal"} {
				b, err := os.ReadFile(path)
				if err != nil {
					continue
				}
				if bytes.Contains(b, []byte(secretText)) || bytes.Contains(b, secret) {
					t.Errorf("%s holds the secret", path)
				}
			}
		}
	})
}
