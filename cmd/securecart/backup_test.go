package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/store"
)

func TestBackupCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv("SECURECART_ROOT_KEY_FILE", filepath.Join(t.TempDir(), "root.key"))
	d := "--data-dir=" + dir
	mustRun(t, d, "keys", "list")

	dep := openDeployment(t, dir)
	for i := range 25 {
		_, err := dep.Store.CreateCustomer(context.Background(), store.NewCustomer{Name: fmt.Sprintf("C %d", i),
			Email: fmt.Sprintf("c%d@example.com", i), Phone: "1",
			Address: store.Address{Line1: "1", City: "x", PostalCode: "1", Country: "FR"}})
		if err != nil {
			t.Fatal(err)
		}
	}
	dep.Close()

	if out := mustRun(t, d, "backup", "snapshot"); !strings.Contains(out, "shipped up to 25") {
		t.Fatalf("backup snapshot:\n%s", out)
	}
	out := mustRun(t, d, "backup", "list")
	for _, want := range []string{"restorable window:", "snap/", "keystore snapshot:"} {
		if !strings.Contains(out, want) {
			t.Fatalf("backup list lacks %q:\n%s", want, out)
		}
	}
	into := filepath.Join(t.TempDir(), "restored")
	out = mustRun(t, d, "backup", "restore", "--to", "latest", "--into", into)
	if !strings.Contains(out, "customers     25 rows") || !strings.Contains(out, "position 25") {
		t.Fatalf("backup restore:\n%s", out)
	}
	// The progress bar reached its end on the error stream.
	if !strings.Contains(out, "restore 100%") {
		t.Fatalf("backup restore shows no finished progress bar:\n%q", out)
	}
	if _, err := run(t, d, "backup", "restore", "--to", "latest", "--into", into); err == nil {
		t.Fatal("restore into an existing database succeeded")
	}
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if _, err := run(t, d, "backup", "restore", "--to", past, "--into", filepath.Join(t.TempDir(), "r2")); err == nil {
		t.Fatal("restore to before the first snapshot succeeded")
	}
	if out := mustRun(t, d, "backup", "verify"); !strings.Contains(out, ": OK") {
		t.Fatalf("backup verify:\n%s", out)
	}
}
