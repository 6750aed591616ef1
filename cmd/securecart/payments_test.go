package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
)

// TestPaymentsDelete starts serve, has the storefront tokenize a card, and
// deletes the token with the command line as an API client.
func TestPaymentsDelete(t *testing.T) {
	const pan = "4111111111111111"
	dir := filepath.Join(t.TempDir(), "data")
	ctx := t.Context()
	srv := startServe(t, dir, "--app-network", "127.0.0.0/8")
	url, bootstrap, out := srv.url, srv.bootstrap, srv.out

	principals := []string{"--data-dir", dir, "principals", "--url", url}
	t.Setenv("SECURECART_API_KEY", bootstrap)
	admin := enrolAdmin(t, dir, url, principals)
	t.Setenv("SECURECART_API_KEY", admin)
	storefront := keyRE.FindString(mustRun(t, append(principals, "create", "--name", "storefront", "--role", "app-service")...))

	c, err := client.New(url, storefront, filepath.Join(dir, "tls", "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var tok struct{ Token string }
	if err := c.Do(ctx, "POST", "/v1/payments/tokenize",
		map[string]any{"pan": pan, "exp_month": 12, "exp_year": 2040}, &tok); err != nil {
		t.Fatal(err)
	}

	payments := []string{"--data-dir", dir, "payments", "--url", url}
	// An admin may not delete card tokens.
	if _, err := run(t, append(payments, "delete", tok.Token)...); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("delete as admin: %v, want 403", err)
	}
	t.Setenv("SECURECART_API_KEY", storefront)
	if got := mustRun(t, append(payments, "delete", tok.Token)...); !strings.Contains(got, "deleted") {
		t.Fatalf("delete:\n%s", got)
	}
	if _, err := run(t, append(payments, "delete", tok.Token)...); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("delete twice: %v, want 404", err)
	}
	// A card number given by mistake goes nowhere and is not repeated.
	got, err := run(t, append(payments, "delete", pan)...)
	if err == nil || strings.Contains(err.Error(), pan[:8]) || strings.Contains(got, pan[:8]) {
		t.Fatalf("delete of a card number: %v\n%s", err, got)
	}

	srv.stop(t)
	trail := mustRun(t, "--data-dir", dir, "audit", "tail", "--json", "--follow=false", "-n", "1000")
	if n := strings.Count(trail, `"deleteCardToken"`); n != 5 {
		t.Fatalf("%d deleteCardToken records, want 5 (a denied call has its outcome only):\n%s", n, trail)
	}
	// serve sweeps the vault's dead tokens at start, as the system.
	if !strings.Contains(trail, `"sweepCardTokens"`) {
		t.Fatalf("no sweep of card tokens in the audit trail:\n%s", trail)
	}
	if strings.Contains(trail, pan) || strings.Contains(out.String(), pan) {
		t.Fatal("the card number is in the audit trail or the server's output")
	}
}

// TestPaymentProviderLimitFromConfig checks that the configuration file
// sets the payment provider's own rate limit, which holds its
// detokenizations, and leaves the other roles' built-in limits.
func TestPaymentProviderLimitFromConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "securecart.json")
	err := os.WriteFile(path, []byte(`{"serve": {"rate_limits": {"payment-provider": {"rate": 5, "burst": 10}}}}`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	c := config.Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatal(err)
	}
	var f serveFlags
	cmd := &cobra.Command{}
	f.register(cmd, "127.0.0.1:0")
	f.merge(cmd, c.Serve)
	limits := f.rateLimits()
	if got := limits[policy.RolePaymentProvider]; got != (server.Limit{Rate: 5, Burst: 10}) {
		t.Fatalf("payment-provider limit %+v, want the configured 5/s, burst 10", got)
	}
	if got := limits[policy.RoleAppService]; got != defaultLimits[policy.RoleAppService] {
		t.Fatalf("app-service limit %+v, want its built-in one", got)
	}
}
