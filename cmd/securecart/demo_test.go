package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/demo"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/sqldb"
)

// TestDemoServesOverTLS runs the demo command on a free port and uses the
// credentials it writes, as the tour does.
func TestDemoServesOverTLS(t *testing.T) {
	if testing.Short() {
		t.Skip("loads the full demo shop; skipped with -short")
	}
	dir := filepath.Join(t.TempDir(), "data")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := newRoot()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs([]string{"--data-dir", dir, "demo", "--listen", "127.0.0.1:0"})
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()

	credsPath := filepath.Join(dir, "demo-credentials.json")
	var creds demo.Credentials
	for deadline := time.Now().Add(2 * time.Minute); ; {
		c, err := demo.ReadCredentials(credsPath)
		if err == nil && c.BaseURL != "" {
			creds = c
			break
		}
		select {
		case err := <-done:
			t.Fatalf("demo stopped: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("the demo did not start")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if fi, err := os.Stat(credsPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("credentials file mode: %v", err)
	}
	if len(creds.Roles) != 6 || creds.Roles["payment-provider"].CertFile == "" {
		t.Fatalf("credentials: %+v", creds.Roles)
	}
	for _, role := range []string{"developer", "security", "dba", "app-service", "payment-provider", "admin"} {
		if creds.Roles[role].APIKey == "" {
			t.Errorf("no API key for %s", role)
		}
	}
	if fi, err := os.Stat(creds.Roles["payment-provider"].KeyFile); err != nil {
		t.Fatal(err)
	} else if fi.Mode().Perm() != 0o600 {
		t.Fatalf("client key file mode %v", fi.Mode().Perm())
	}

	caPEM, err := os.ReadFile(creds.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	get := func(role string) map[string]any {
		req, _ := http.NewRequest("GET", creds.BaseURL+"/v1/customers/"+creds.Customer, nil)
		req.Header.Set("Authorization", "Bearer "+creds.Roles[role].APIKey)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") == "" {
			t.Fatalf("%s: %d", role, resp.StatusCode)
		}
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return v
	}
	if v := get("developer"); v["masked"] != true || !strings.Contains(v["email"].(string), "•••") {
		t.Fatalf("developer sees %v", v)
	}
	if v := get("app-service"); v["masked"] != false || strings.Contains(v["email"].(string), "•••") {
		t.Fatalf("app-service sees %v", v)
	}
	if !strings.Contains(out.String(), "curl --cacert") || !strings.Contains(out.String(), "/v1/payments/detokenize") {
		t.Fatalf("no tour printed:\n%s", out.String())
	}

	// The tour's card round trip: tokenize as the storefront, detokenize as
	// the payment provider with its client certificate.
	pay := creds.Roles["payment-provider"]
	pair, err := tls.LoadX509KeyPair(pay.CertFile, pay.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	mtls := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
		Certificates: []tls.Certificate{pair}}}}
	post := func(c *http.Client, key, path, body string) map[string]any {
		req, _ := http.NewRequest("POST", creds.BaseURL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		if resp.StatusCode/100 != 2 {
			t.Fatalf("%s: %d %v", path, resp.StatusCode, v)
		}
		return v
	}
	tok := post(client, creds.Roles["app-service"].APIKey, "/v1/payments/tokenize",
		`{"pan":"4111111111111111","exp_month":12,"exp_year":2040}`)
	card := post(mtls, "", "/v1/payments/detokenize", `{"token":"`+tok["token"].(string)+`","purpose":"capture"}`)
	if card["pan"] != "4111111111111111" {
		t.Fatalf("detokenized %v", card)
	}

	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(creds.BaseURL + "/healthz"); err == nil {
		t.Fatal("a TLS 1.1 client was served")
	}
	metrics := scrapeMetrics(t, client, creds.BaseURL, creds.Roles["developer"].APIKey)
	if metrics["tls_handshake_errors_total"] < 1 {
		t.Errorf("the refused handshake was not counted: %v", metrics["tls_handshake_errors_total"])
	}
	if metrics[`seal_operations_total{op="open"}`] < 8 || metrics[`seal_operations_total{op="seal"}`] < 1000 {
		t.Errorf("seal operations not counted: %v", metrics)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo exit: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the demo did not shut down")
	}

	// The shop it loaded has the promised size.
	cfg := config.Default()
	cfg.DataDir = dir
	d, err := deploy.Open(t.Context(), cfg, deploy.Options{Getenv: func(string) string { return "" }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	for table, want := range map[string]int64{"customers": demo.Customers, "products": demo.Products,
		"orders": demo.Orders} {
		var n int64
		err := d.DB.Read(t.Context(), func(tx sqldb.Tx) error {
			return tx.QueryRow(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n)
		})
		if err != nil || n != want {
			t.Errorf("%s: %d rows, %v; want %d", table, n, err, want)
		}
	}
	if demo.Customers < 1000 || demo.Products < 200 || demo.Orders < 5000 {
		t.Errorf("the demo shop is smaller than 1,000 customers, 200 products and 5,000 orders")
	}
}

// scrapeMetrics reads /metrics as the holder of key and returns the value
// of each series without labels or with them, as written.
func scrapeMetrics(t *testing.T, client *http.Client, base, key string) map[string]float64 {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("metrics: %d", resp.StatusCode)
	}
	body, _ := io.ReadAll(resp.Body)
	out := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		name, value, ok := strings.Cut(line, " ")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if v, err := strconv.ParseFloat(value, 64); err == nil {
			out[name] = v
		}
	}
	return out
}
