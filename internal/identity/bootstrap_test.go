package identity

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

func TestBootstrapOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, _ := openDir(t, h)
		key, created, err := d.EnsureBootstrap(ctx)
		if err != nil || !created || key.IsZero() {
			t.Fatalf("first bootstrap: %v, %v, %v", key, created, err)
		}
		p, err := d.Authenticate(ctx, key.Reveal())
		if err != nil {
			t.Fatal(err)
		}
		if p.Name != BootstrapName || p.Kind != KindService || !p.HasRole(RoleAdmin) || len(p.Roles) != 1 {
			t.Errorf("bootstrap principal %+v", p)
		}

		again, created, err := d.EnsureBootstrap(ctx)
		if err != nil || created || !again.IsZero() {
			t.Errorf("second call: %v, %v, %v", again, created, err)
		}
		restarted, _ := openDir(t, h.Reopen(t))
		if k, created, err := restarted.EnsureBootstrap(ctx); err != nil || created || !k.IsZero() {
			t.Errorf("after a restart: %v, %v, %v", k, created, err)
		}
	})
}

func TestBootstrapSkipsPopulatedDirectory(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		d, _ := openDir(t, h)
		mustPrincipal(t, d, "existing", KindPerson, RoleAdmin)
		if k, created, err := d.EnsureBootstrap(context.Background()); err != nil || created || !k.IsZero() {
			t.Errorf("bootstrap over principals: %v, %v, %v", k, created, err)
		}
	})
}

func TestBootstrapConcurrent(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		// Two nodes, each with its own handle, and calls on each.
		nodes := []*Directory{}
		for _, db := range []sqldb.DB{h, h.Reopen(t)} {
			d, _ := openDir(t, db)
			nodes = append(nodes, d)
		}
		var (
			mu   sync.Mutex
			keys []APIKey
			wg   sync.WaitGroup
		)
		start := make(chan struct{})
		for i := range 8 {
			d := nodes[i%2]
			wg.Go(func() {
				<-start
				k, created, err := d.EnsureBootstrap(ctx)
				if err != nil {
					t.Error(err)
					return
				}
				if created {
					mu.Lock()
					keys = append(keys, k)
					mu.Unlock()
				}
			})
		}
		close(start)
		wg.Wait()
		if len(keys) != 1 {
			t.Fatalf("%d calls created a bootstrap key, want 1", len(keys))
		}
		list, err := nodes[0].ListPrincipals(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || len(list[0].Keys) != 1 || list[0].Keys[0].ID != keys[0].ID() {
			t.Fatalf("directory after concurrent bootstrap: %+v", list)
		}
		if _, err := nodes[1].Authenticate(ctx, keys[0].Reveal()); err != nil {
			t.Errorf("the returned key does not authenticate: %v", err)
		}
	})
}

// TestConcurrentFirstReads starts many reads of every kind at once on a
// directory that has just been opened, as a server's first requests do.
func TestConcurrentFirstReads(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		setup, _ := openDir(t, h)
		p := mustPrincipal(t, setup, "first", KindService, RoleAppService)
		k, _ := mustKey(t, setup, p.ID, 0)

		d, _ := openDir(t, h.Reopen(t))
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				<-start
				var err error
				switch i % 4 {
				case 0:
					_, err = d.Authenticate(ctx, k.Reveal())
				case 1:
					_, err = d.GetPrincipal(ctx, p.ID)
				case 2:
					_, err = d.ListPrincipals(ctx)
				case 3:
					_, _, err = d.EnsureBootstrap(ctx)
				}
				if err != nil {
					t.Error(err)
				}
			})
		}
		close(start)
		wg.Wait()
	})
}
