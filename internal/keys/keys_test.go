package keys

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

// env is one test's database and root key file.
type env struct {
	t       *testing.T
	engine  sqldbtest.Engine
	h       *sqldbtest.Handle
	keyPath string
}

// forEngines runs fn once per database engine, each time with a fresh
// database and a root key path in a fresh directory.
func forEngines(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			fn(t, &env{t: t, engine: eng, h: eng.Open(t),
				keyPath: filepath.Join(t.TempDir(), "root.key")})
		})
	}
}

func (e *env) provider() *FileProvider { return &FileProvider{Path: e.keyPath} }

// open opens a keystore on the test's first database handle.
func (e *env) open(cfg Config) *Keystore {
	e.t.Helper()
	return openKeystore(e.t, e.h.DB, e.provider(), cfg)
}

// reopen opens a keystore on a new handle to the same database, as a
// restarted process or a second node would.
func (e *env) reopen(cfg Config) *Keystore {
	e.t.Helper()
	return openKeystore(e.t, e.h.Reopen(e.t), e.provider(), cfg)
}

// freshKeystore opens a keystore of another deployment: a new database of
// the same engine and its own root key.
func (e *env) freshKeystore() *Keystore {
	e.t.Helper()
	h := e.engine.Open(e.t)
	return openKeystore(e.t, h.DB, &FileProvider{Path: filepath.Join(e.t.TempDir(), "root.key")}, Config{})
}

func openKeystore(t testing.TB, db sqldb.DB, p Provider, cfg Config) *Keystore {
	t.Helper()
	ks, err := Open(t.Context(), db, p, cfg)
	if err != nil {
		t.Fatalf("open keystore: %v", err)
	}
	t.Cleanup(ks.Close)
	return ks
}

// settle waits for the keystore's background pool refills.
func settle(ks *Keystore) { ks.bg.Wait() }

func bind(owner, column string) envelope.Binding {
	return envelope.Binding{Table: "customers", Column: column, Row: owner}
}

// sealed is a value sealed in a test, with what it takes to open it.
type sealed struct {
	ct []byte
	b  envelope.Binding
	pt []byte
}

// check fails t unless ks opens v to its plaintext.
func (v sealed) check(t testing.TB, ks *Keystore) {
	t.Helper()
	got, err := ks.Open(t.Context(), v.ct, v.b)
	if err != nil {
		t.Fatalf("open %s/%s: %v", v.b.Column, v.b.Row, err)
	}
	if !bytes.Equal(got, v.pt) {
		t.Fatalf("open %s/%s = %q, want %q", v.b.Column, v.b.Row, got, v.pt)
	}
}

// addOwner creates owner the way the store does: a pooled data key seals
// the owner's first value and is assigned in the owner's transaction.
func addOwner(t testing.TB, ks *Keystore, db sqldb.DB, d Domain, owner string) (sealed, DataKey) {
	t.Helper()
	ctx := t.Context()
	dk, err := ks.NewDataKey(ctx, d)
	if err != nil {
		t.Fatalf("new data key: %v", err)
	}
	v := sealed{b: bind(owner, "email"), pt: []byte(owner + "@example.com")}
	if v.ct, err = ks.SealWith(ctx, dk, v.b, v.pt); err != nil {
		t.Fatalf("seal with new key: %v", err)
	}
	err = db.Write(ctx, func(tx sqldb.Tx) error { return ks.Assign(ctx, tx, dk, owner) })
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	ks.Assigned(dk, owner)
	return v, dk
}

// sealFor seals a value for owner's active key of d in the given column.
func sealFor(t testing.TB, ks *Keystore, d Domain, owner, column string) sealed {
	t.Helper()
	v := sealed{b: bind(owner, column), pt: []byte(column + " of " + owner)}
	var err error
	if v.ct, err = ks.SealFor(t.Context(), d, owner, v.b, v.pt); err != nil {
		t.Fatalf("seal for %s: %v", owner, err)
	}
	return v
}

func keyID(t testing.TB, ct []byte) uint64 {
	t.Helper()
	h, err := envelope.Parse(ct)
	if err != nil {
		t.Fatal(err)
	}
	return h.KeyID
}

// hinted returns err's HintedError or fails t.
func hinted(t testing.TB, err error) *HintedError {
	t.Helper()
	var he *HintedError
	if !errors.As(err, &he) {
		t.Fatalf("err = %v, want a *HintedError", err)
	}
	if he.Hint == "" {
		t.Fatalf("HintedError %q has no hint", he)
	}
	return he
}

// fakeClock is a settable clock for Config.Now.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func TestOpenCreatesRootKeyFile(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})

		fi, err := os.Stat(e.keyPath)
		if err != nil {
			t.Fatalf("root key file not created: %v", err)
		}
		if fi.Mode().Perm() != 0o600 || fi.Size() != KeySize {
			t.Fatalf("root key file mode %04o size %d, want 0600 and %d", fi.Mode().Perm(), fi.Size(), KeySize)
		}
		onDisk, err := e.provider().Load(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if !onDisk.Equal(ks.Root()) {
			t.Fatal("the keystore's root key is not the one in the file")
		}
		id, err := Meta{e.h.DB}.GetMeta(t.Context(), metaRootID)
		if err != nil || string(id) != onDisk.ID() {
			t.Fatalf("root_id meta = %q, %v; want %q", id, err, onDisk.ID())
		}

		// Every domain starts with an active version 1.
		for _, d := range envelope.Domains {
			if v, err := ks.ActiveVersion(d); err != nil || v != 1 {
				t.Errorf("%s: active version %d, %v; want 1", d, v, err)
			}
		}

		// A second start uses the file as it is.
		before, _ := os.ReadFile(e.keyPath)
		v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		ks2 := e.reopen(Config{})
		after, _ := os.ReadFile(e.keyPath)
		if !bytes.Equal(before, after) {
			t.Fatal("a second start rewrote the root key file")
		}
		if !ks2.Root().Equal(ks.Root()) {
			t.Fatal("a second start loaded another root key")
		}
		v.check(t, ks2)
	})
}

func TestOpenRefusesBadRootKey(t *testing.T) {
	other, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		// initialized opens the keystore once before the file is changed.
		initialized bool
		change      func(t *testing.T, path string)
		wantErr     string
		wantHint    string
	}{{
		name: "readable by group", initialized: true,
		change:  func(t *testing.T, path string) { chmod(t, path, 0o640) },
		wantErr: "accessible to other users", wantHint: "chmod 600",
	}, {
		name: "readable by others", initialized: true,
		change:  func(t *testing.T, path string) { chmod(t, path, 0o604) },
		wantErr: "accessible to other users", wantHint: "chmod 600",
	}, {
		name: "writable by group on first start",
		change: func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte{7}, KeySize), 0o620)
		},
		wantErr: "accessible to other users", wantHint: "chmod 600",
	}, {
		name: "missing", initialized: true,
		change:  func(t *testing.T, path string) { os.Remove(path) },
		wantErr: "missing", wantHint: "import-root",
	}, {
		name: "another deployment's key", initialized: true,
		change: func(t *testing.T, path string) {
			if err := writeKeyFile(path, other); err != nil {
				t.Fatal(err)
			}
		},
		wantErr: "does not match", wantHint: "another deployment",
	}, {
		name: "too short", initialized: true,
		change: func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte{7}, KeySize-1), 0o600)
		},
		wantErr: "must be 32 bytes", wantHint: "not a SecureCart root key",
	}, {
		name: "too long",
		change: func(t *testing.T, path string) {
			writeFile(t, path, bytes.Repeat([]byte{7}, KeySize+1), 0o600)
		},
		wantErr: "must be 32 bytes", wantHint: "not a SecureCart root key",
	}, {
		name: "empty on first start",
		change: func(t *testing.T, path string) {
			writeFile(t, path, nil, 0o600)
		},
		wantErr: "must be 32 bytes", wantHint: "not a SecureCart root key",
	}}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			forEngines(t, func(t *testing.T, e *env) {
				if tc.initialized {
					e.open(Config{})
				}
				tc.change(t, e.keyPath)
				before, _ := os.ReadFile(e.keyPath)

				_, err := Open(t.Context(), e.h.Reopen(t), e.provider(), Config{})
				he := hinted(t, err)
				if !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(he.Hint, tc.wantHint) {
					t.Fatalf("err %q, hint %q; want them to mention %q and %q", err, he.Hint, tc.wantErr, tc.wantHint)
				}
				after, _ := os.ReadFile(e.keyPath)
				if !bytes.Equal(before, after) {
					t.Fatal("a refused start changed the root key file")
				}
			})
		})
	}
}

// A refused file works again once the operator follows the hint.
func TestOpenAfterChmod(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		v, _ := addOwner(t, ks, e.h.DB, envelope.Orders, "c1")
		chmod(t, e.keyPath, 0o644)
		if _, err := Open(t.Context(), e.h.Reopen(t), e.provider(), Config{}); err == nil {
			t.Fatal("opened with a world-readable root key")
		}
		chmod(t, e.keyPath, 0o600)
		v.check(t, e.reopen(Config{}))
	})
}

func TestFileProviderStaging(t *testing.T) {
	ctx := t.Context()
	p := &FileProvider{Path: filepath.Join(t.TempDir(), "keys", "root.key")}
	if _, err := p.Load(ctx); !errors.Is(err, ErrNoRootKey) {
		t.Fatalf("Load of a missing file: %v, want ErrNoRootKey", err)
	}
	if _, err := p.Staged(ctx); !errors.Is(err, ErrNoRootKey) {
		t.Fatalf("Staged with nothing staged: %v, want ErrNoRootKey", err)
	}
	if err := p.Discard(ctx); err != nil {
		t.Fatalf("Discard with nothing staged: %v", err)
	}
	if err := p.Promote(ctx); err == nil {
		t.Fatal("Promote with nothing staged succeeded")
	}

	cur, _ := NewRootKey()
	next, _ := NewRootKey()
	if err := p.Save(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if err := p.Stage(ctx, next); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p.Path + ".next")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("staged file: %v, %v; want mode 0600", fi, err)
	}
	if got, err := p.Load(ctx); err != nil || !got.Equal(cur) {
		t.Fatalf("Load after Stage = %v, %v; want the current key", got, err)
	}
	if got, err := p.Staged(ctx); err != nil || !got.Equal(next) {
		t.Fatalf("Staged = %v, %v; want the staged key", got, err)
	}
	if err := p.Promote(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Load(ctx); err != nil || !got.Equal(next) {
		t.Fatalf("Load after Promote = %v, %v; want the staged key", got, err)
	}
	if _, err := p.Staged(ctx); !errors.Is(err, ErrNoRootKey) {
		t.Fatalf("Staged after Promote: %v, want ErrNoRootKey", err)
	}

	if err := p.Stage(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if err := p.Discard(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Load(ctx); err != nil || !got.Equal(next) {
		t.Fatalf("Load after Discard = %v, %v; want the current key", got, err)
	}
	if _, err := os.Stat(p.Path + ".next"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("staged file still there after Discard: %v", err)
	}
}

func chmod(t *testing.T, path string, mode os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, b []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, b, mode); err != nil {
		t.Fatal(err)
	}
	chmod(t, path, mode) // WriteFile's mode is subject to the umask
}
