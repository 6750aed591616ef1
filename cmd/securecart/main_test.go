package main

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
)

// run executes the command line in-process and returns its output.
func run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

// openDeployment opens the deployment the command line made in dir, with
// the settings the command line reads from the environment.
func openDeployment(t *testing.T, dir string) *deploy.Deployment {
	t.Helper()
	cfg := config.Default()
	cfg.DataDir = dir
	if err := cfg.FromEnv(os.Getenv); err != nil {
		t.Fatal(err)
	}
	d, err := deploy.Open(t.Context(), cfg, deploy.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, err := run(t, args...)
	if err != nil {
		t.Fatalf("securecart %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

func TestVersion(t *testing.T) {
	if out := mustRun(t, "version"); !strings.HasPrefix(out, "securecart ") {
		t.Fatalf("version = %q", out)
	}
}

func TestClassifyPrintsTheDataMap(t *testing.T) {
	out := mustRun(t, "classify")
	for _, want := range []string{"customers.email", "pii", "sealed, blind-indexed, masked", "customer-pii"} {
		if !strings.Contains(out, want) {
			t.Errorf("classify output lacks %q", want)
		}
	}
	var rows []map[string]any
	if err := json.Unmarshal([]byte(mustRun(t, "classify", "--json")), &rows); err != nil || len(rows) < 20 {
		t.Fatalf("classify --json: %d rows, %v", len(rows), err)
	}
}

// TestKeysLifecycle runs the key commands that need no server: list and
// backup read the database directly; the commands that change keys check
// their arguments before they call the API (TestKeysOnARunningServer
// runs them against serve).
func TestKeysLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d := "--data-dir=" + dir
	out := mustRun(t, d, "keys", "list")
	if strings.Count(out, "active") != 6 {
		t.Fatalf("keys list:\n%s", out)
	}
	for _, args := range [][]string{{"rotate", "no-such-domain"}, {"rewrap", "no-such-domain"},
		{"destroy", "customer-pii", "0"}, {"destroy", "no-such-domain", "1"}} {
		if _, err := run(t, append([]string{d, "keys"}, args...)...); err == nil ||
			strings.Contains(err.Error(), "API key") {
			t.Fatalf("keys %s: %v, want a refused argument", strings.Join(args, " "), err)
		}
	}
	t.Setenv("SECURECART_API_KEY", "")
	if _, err := run(t, d, "keys", "rotate", "orders"); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Fatalf("keys rotate without an API key: %v", err)
	}
	listed := mustRun(t, d, "keys", "list", "--json")
	if !strings.Contains(listed, `"active"`) {
		t.Fatalf("keys list --json:\n%s", listed)
	}
	assertNoKeyMaterial(t, dir, listed, mustRun(t, d, "keys", "list"))

	backup := filepath.Join(t.TempDir(), "ks.jsonl")
	mustRun(t, d, "keys", "backup", "--out", backup)
	if b, _ := os.ReadFile(backup); !bytes.Contains(b, []byte("securecart-keystore-snapshot-v1")) {
		t.Fatal("keystore backup lacks its header")
	}
}

func TestRootKeyRecovery(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	d := "--data-dir=" + dir
	t.Setenv(recoveryEnv, "a long recovery passphrase")
	mustRun(t, d, "keys", "list")
	export := filepath.Join(t.TempDir(), "root.json")
	mustRun(t, d, "keys", "export-root", "--out", export)
	if fi, err := os.Stat(export); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v", err)
	}
	if _, err := run(t, d, "keys", "export-root", "--out", export); err == nil {
		t.Fatal("export overwrote an existing file")
	}

	// The machine is lost: the key file goes, the data stays.
	os.Remove(filepath.Join(dir, "root.key"))
	out, err := run(t, d, "keys", "list")
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("list without root key: %v\n%s", err, out)
	}
	t.Setenv(recoveryEnv, "the wrong passphrase")
	if _, err := run(t, d, "keys", "import-root", export); err == nil {
		t.Fatal("import with the wrong passphrase succeeded")
	}
	t.Setenv(recoveryEnv, "a long recovery passphrase")
	mustRun(t, d, "keys", "import-root", export)
	mustRun(t, d, "keys", "list")

	// After a root rotation the old export is refused with a hint.
	mustRun(t, d, "keys", "rotate-root")
	os.Remove(filepath.Join(dir, "root.key"))
	if _, err := run(t, d, "keys", "import-root", export); err == nil || !strings.Contains(err.Error(), "wrapped under") {
		t.Fatalf("stale export: %v", err)
	}
}

func TestPassphraseProvider(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	args := []string{"--data-dir=" + dir, "--root-key-provider=passphrase"}
	t.Setenv("SECURECART_ROOT_PASSPHRASE", "correct horse battery staple")
	mustRun(t, append(args, "keys", "list")...)
	if _, err := os.Stat(filepath.Join(dir, "root.key")); err == nil {
		t.Fatal("the passphrase provider wrote a key file")
	}
	t.Setenv("SECURECART_ROOT_PASSPHRASE", "not the passphrase")
	if _, err := run(t, append(args, "keys", "list")...); err == nil {
		t.Fatal("wrong passphrase accepted")
	}
}

func TestEnvironmentAndFlags(t *testing.T) {
	envDir := filepath.Join(t.TempDir(), "env")
	flagDir := filepath.Join(t.TempDir(), "flag")
	t.Setenv("SECURECART_DATA_DIR", envDir)
	mustRun(t, "keys", "list")
	if _, err := os.Stat(filepath.Join(envDir, "securecart.db")); err != nil {
		t.Fatal("SECURECART_DATA_DIR ignored")
	}
	mustRun(t, "--data-dir", flagDir, "keys", "list")
	if _, err := os.Stat(filepath.Join(flagDir, "securecart.db")); err != nil {
		t.Fatal("the flag did not win over the environment")
	}
}

func TestConfigFileThenEnvironmentThenFlags(t *testing.T) {
	base := t.TempDir()
	fileDir, envDir, flagDir := filepath.Join(base, "file"), filepath.Join(base, "env"), filepath.Join(base, "flag")
	cfg := filepath.Join(base, "securecart.json")
	os.WriteFile(cfg, []byte(`{"data_dir": "`+fileDir+`"}`), 0o600)

	mustRun(t, "--config", cfg, "keys", "list")
	if _, err := os.Stat(filepath.Join(fileDir, "securecart.db")); err != nil {
		t.Fatal("the configuration file's data_dir was not used")
	}
	t.Setenv("SECURECART_DATA_DIR", envDir)
	mustRun(t, "--config", cfg, "keys", "list")
	if _, err := os.Stat(filepath.Join(envDir, "securecart.db")); err != nil {
		t.Fatal("the environment did not win over the file")
	}
	mustRun(t, "--config", cfg, "--data-dir", flagDir, "keys", "list")
	if _, err := os.Stat(filepath.Join(flagDir, "securecart.db")); err != nil {
		t.Fatal("the flag did not win over the environment")
	}
	os.WriteFile(cfg, []byte(`{"data_dri": "typo"}`), 0o600)
	if _, err := run(t, "--config", cfg, "keys", "list"); err == nil || !strings.Contains(err.Error(), "unknown field") {
		t.Fatalf("a typo in the file: %v", err)
	}
}

// assertNoKeyMaterial checks that the JSON list of keys has only the
// descriptive fields, and that no output holds the root key in any usual
// encoding.
func assertNoKeyMaterial(t *testing.T, dataDir, listJSON string, outputs ...string) {
	t.Helper()
	var infos []map[string]any
	if err := json.Unmarshal([]byte(listJSON), &infos); err != nil || len(infos) == 0 {
		t.Fatalf("keys list --json: %v\n%s", err, listJSON)
	}
	described := map[string]bool{"domain": true, "version": true, "state": true, "created": true, "age": true,
		"data_keys": true, "seals_reserved": true}
	for _, info := range infos {
		for field := range info {
			if !described[field] {
				t.Errorf("keys list shows %q", field)
			}
		}
	}
	root, err := os.ReadFile(filepath.Join(dataDir, "root.key"))
	if err != nil || len(root) != 32 {
		t.Fatalf("root key file: %d bytes, %v", len(root), err)
	}
	for _, out := range append(outputs, listJSON) {
		for _, enc := range []string{hex.EncodeToString(root), strings.ToUpper(hex.EncodeToString(root)),
			base64.StdEncoding.EncodeToString(root), base64.RawURLEncoding.EncodeToString(root)} {
			if strings.Contains(out, enc) {
				t.Fatalf("keys list shows the root key:\n%s", out)
			}
		}
	}
}
