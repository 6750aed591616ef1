package identity

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestCreatePrincipalInvalid(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		d, _ := openDir(t, h)
		tests := []struct {
			name  string
			pname string
			kind  Kind
			roles []Role
			field string
		}{
			{"empty name", "", KindPerson, nil, "name"},
			{"long name", strings.Repeat("a", 65), KindPerson, nil, "name"},
			{"upper case", "Alice", KindPerson, nil, "name"},
			{"space", "al ice", KindPerson, nil, "name"},
			{"slash", "a/b", KindPerson, nil, "name"},
			{"non-ascii", "alicé", KindPerson, nil, "name"},
			{"unknown kind", "alice", "robot", nil, "kind"},
			{"empty kind", "alice", "", nil, "kind"},
			{"unknown role", "alice", KindPerson, []Role{"root"}, "roles"},
			{"customer role", "alice", KindPerson, []Role{RoleDBA, "customer"}, "roles"},
			{"role case", "alice", KindPerson, []Role{"Admin"}, "roles"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := d.CreatePrincipal(context.Background(), tt.pname, tt.kind, tt.roles)
				var ie *InvalidError
				if !errors.As(err, &ie) || ie.Field != tt.field {
					t.Fatalf("got %v, want an InvalidError for %s", err, tt.field)
				}
			})
		}
		list, err := d.ListPrincipals(context.Background())
		if err != nil || len(list) != 0 {
			t.Fatalf("after invalid creates: %d principals, %v", len(list), err)
		}
	})
}

func TestPrincipalLifecycle(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)

		alice := mustPrincipal(t, d, "alice", KindPerson, RoleSecurity, RoleDeveloper, RoleSecurity)
		if !validPrincipalID(alice.ID) || len(alice.ID) != 30 {
			t.Errorf("id %q does not have the documented shape", alice.ID)
		}
		if want := []Role{RoleDeveloper, RoleSecurity}; !reflect.DeepEqual(alice.Roles, want) {
			t.Errorf("roles = %v, want sorted and unique %v", alice.Roles, want)
		}
		if !alice.HasRole(RoleSecurity) || alice.HasRole(RoleAdmin) {
			t.Error("HasRole disagrees with Roles")
		}
		svc := mustPrincipal(t, d, "shop.front-end_1", KindService, RoleAppService)
		clk.Advance(time.Second)
		mustPrincipal(t, d, strings.Repeat("z", 64), KindService)

		if _, err := d.CreatePrincipal(ctx, "alice", KindService, nil); !errors.Is(err, ErrExists) {
			t.Errorf("duplicate name: got %v, want ErrExists", err)
		}

		k1, info1 := mustKey(t, d, alice.ID, 0)
		clk.Advance(time.Second)
		_, info2 := mustKey(t, d, alice.ID, time.Hour)
		if info1.Prefix != k1.Prefix() || info1.ID != k1.ID() || !info1.ExpiresAt.IsZero() {
			t.Errorf("key info %+v does not describe %v", info1, k1)
		}
		if !info2.ExpiresAt.Equal(clk.Now().Add(time.Hour)) {
			t.Errorf("expiry %v, want an hour after %v", info2.ExpiresAt, clk.Now())
		}

		got, err := d.GetPrincipal(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Keys) != 2 {
			t.Fatalf("GetPrincipal keys = %+v", got.Keys)
		}
		if got.Keys[0] != *info1 || got.Keys[1] != *info2 {
			t.Errorf("stored keys %+v, want %+v and %+v", got.Keys, *info1, *info2)
		}
		got.Keys = nil
		if !reflect.DeepEqual(got, alice) {
			t.Errorf("GetPrincipal = %+v, want %+v", got, alice)
		}

		list, err := d.ListPrincipals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, p := range list {
			names = append(names, p.Name)
		}
		want := []string{"alice", "shop.front-end_1", strings.Repeat("z", 64)}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("names = %v, want %v", names, want)
		}
		if len(list[0].Keys) != 2 || len(list[1].Keys) != 0 {
			t.Errorf("listed keys: %d and %d, want 2 and 0", len(list[0].Keys), len(list[1].Keys))
		}

		if err := d.RevokeKey(ctx, info1.ID); err != nil {
			t.Fatal(err)
		}
		revokedAt := clk.Now()
		clk.Advance(time.Minute)
		if err := d.RevokeKey(ctx, info1.ID); err != nil {
			t.Errorf("revoking twice: %v", err)
		}
		if err := d.DisablePrincipal(ctx, svc.ID); err != nil {
			t.Fatal(err)
		}
		if err := d.DisablePrincipal(ctx, svc.ID); err != nil {
			t.Errorf("disabling twice: %v", err)
		}

		got, _ = d.GetPrincipal(ctx, alice.ID)
		if !got.Keys[0].RevokedAt.Equal(revokedAt) || !got.Keys[1].RevokedAt.IsZero() {
			t.Errorf("revocation times %v, %v", got.Keys[0].RevokedAt, got.Keys[1].RevokedAt)
		}
		if got.Keys[0].Active(clk.Now()) || !got.Keys[1].Active(clk.Now()) {
			t.Error("Active disagrees with revocation")
		}
		got, _ = d.GetPrincipal(ctx, svc.ID)
		if got.Enabled() || !got.DisabledAt.Equal(clk.Now()) {
			t.Errorf("disabled at %v, want %v", got.DisabledAt, clk.Now())
		}
	})
}

func TestNotFound(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, _ := openDir(t, h)
		p := mustPrincipal(t, d, "bob", KindPerson)
		if err := d.DisablePrincipal(ctx, p.ID); err != nil {
			t.Fatal(err)
		}
		absent, _ := newPrincipalID()
		tests := []struct {
			name string
			run  func() error
			want error
		}{
			{"get unknown", func() error { _, err := d.GetPrincipal(ctx, absent); return err }, ErrNotFound},
			{"get malformed", func() error { _, err := d.GetPrincipal(ctx, "x'; --"); return err }, ErrNotFound},
			{"disable unknown", func() error { return d.DisablePrincipal(ctx, absent) }, ErrNotFound},
			{"revoke unknown", func() error { return d.RevokeKey(ctx, "abcdefghijkl") }, ErrNotFound},
			{"revoke malformed", func() error { return d.RevokeKey(ctx, "ABC") }, ErrNotFound},
			{"key for unknown", func() error { _, _, err := d.CreateKey(ctx, absent, 0); return err }, ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if err := tt.run(); !errors.Is(err, tt.want) {
					t.Errorf("got %v, want %v", err, tt.want)
				}
			})
		}

		var ie *InvalidError
		if _, _, err := d.CreateKey(ctx, p.ID, 0); !errors.As(err, &ie) || ie.Field != "principal" {
			t.Errorf("key for a disabled principal: got %v", err)
		}
		active := mustPrincipal(t, d, "carol", KindPerson)
		if _, _, err := d.CreateKey(ctx, active.ID, -time.Second); !errors.As(err, &ie) || ie.Field != "ttl" {
			t.Errorf("negative ttl: got %v", err)
		}
	})
}

func TestDecodeRolesRejectsNonCanonical(t *testing.T) {
	for _, s := range []string{"admin,admin", "dba,admin", "admin,", ",admin", "root", "admin, dba"} {
		if _, err := decodeRoles(s); err == nil {
			t.Errorf("decodeRoles(%q) accepted", s)
		}
	}
	for _, s := range []string{"", "admin", "admin,dba,developer"} {
		roles, err := decodeRoles(s)
		if err != nil || encodeRoles(roles) != s {
			t.Errorf("decodeRoles(%q) = %v, %v", s, roles, err)
		}
	}
}
