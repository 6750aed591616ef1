package objstore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/objstore/objstoretest"
)

func TestLocalConformance(t *testing.T) {
	objstoretest.Conformance(t, func(t *testing.T) objstore.Store {
		s, err := objstore.NewLocal(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestS3Conformance(t *testing.T) {
	srv := objstoretest.StartS3(t)
	objstoretest.Conformance(t, func(t *testing.T) objstore.Store { return srv.NewStore(t) })
}

func TestLocalDetectsCorruption(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, objstore.Backups, "x/seg", []byte("sealed bytes"), objstore.Standard); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, objstore.Backups, "x", "seg")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-1] ^= 1
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Get(ctx, objstore.Backups, "x/seg"); !errors.Is(err, objstore.ErrChecksum) {
		t.Fatalf("get flipped object: %v, want ErrChecksum", err)
	}
}

func TestLocalLeavesNoTempFiles(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := objstore.NewLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.Put(ctx, objstore.Logs, "a/b", []byte("v"), objstore.Standard); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(dir, objstore.Logs, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "b" {
		t.Fatalf("folder holds %v", entries)
	}
}

func TestValidKey(t *testing.T) {
	cases := map[string]bool{
		"seg/00000000000000000001-00000000000000000010": true,
		"keystore/2026-12-03T19:00:00Z":                 false,
		"a=b/c.d_e-f":                                   true,
		"../etc/passwd":                                 false,
		"a/../b":                                        false,
		"a/./b":                                         false,
		"":                                              false,
	}
	for k, want := range cases {
		if got := objstore.ValidKey(k); got != want {
			t.Errorf("ValidKey(%q) = %v, want %v", k, got, want)
		}
	}
}
