package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/securecart/securecart/internal/demo"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
	"github.com/securecart/securecart/internal/store"
)

// vaultClients is the number of concurrent clients of the vault figures:
// tokenize under wrk, detokenize under detokenizeLoad, and the writers of
// the insert floor.
const vaultClients = 16

// loadResult is what a Go load run measured.
type loadResult struct {
	requests  int64
	perSecond float64
	p99ms     float64
}

// detokenizeLoad measures POST /v1/payments/detokenize as the payment
// provider, which wrk cannot do: it presents a client certificate. It
// tokenizes a set of cards first, then runs vaultClients clients, each on
// its own kept-alive connection, for d.
func detokenizeLoad(ctx context.Context, c demo.Credentials, d time.Duration) (loadResult, error) {
	pay := c.Roles["payment-provider"]
	pair, err := tls.LoadX509KeyPair(pay.CertFile, pay.KeyFile)
	if err != nil {
		return loadResult{}, fmt.Errorf("payment provider's certificate: %w", err)
	}
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return loadResult{}, err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	newClient := func(certs []tls.Certificate) *http.Client {
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			MaxIdleConnsPerHost: 1, TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: certs}}}
	}

	app := newClient(nil)
	var tokens []string
	for range 256 {
		var tok struct{ Token string }
		err := post(ctx, app, c.BaseURL+"/v1/payments/tokenize", c.Roles["app-service"].APIKey,
			`{"pan":"5555555555554444","exp_month":1,"exp_year":2040}`, &tok)
		if err != nil {
			return loadResult{}, fmt.Errorf("tokenize: %w", err)
		}
		tokens = append(tokens, tok.Token)
	}

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    error
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for w := range vaultClients {
		wg.Go(func() {
			client := newClient([]tls.Certificate{pair})
			var mine []time.Duration
			for i := w; time.Now().Before(deadline); i += vaultClients {
				body := `{"token":"` + tokens[i%len(tokens)] + `","purpose":"capture"}`
				t0 := time.Now()
				var card struct{ PAN string }
				if err := post(ctx, client, c.BaseURL+"/v1/payments/detokenize", "", body, &card); err != nil || card.PAN == "" {
					mu.Lock()
					failed = fmt.Errorf("detokenize: %v", err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if failed != nil {
		return loadResult{}, failed
	}
	return summarize(latencies, time.Since(start)), nil
}

func post(ctx context.Context, client *http.Client, url, key, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader([]byte(body)))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s", resp.Status)
	}
	return json.Unmarshal(b, out)
}

func summarize(latencies []time.Duration, elapsed time.Duration) loadResult {
	if len(latencies) == 0 {
		return loadResult{}
	}
	slices.Sort(latencies)
	p99 := latencies[min(len(latencies)-1, len(latencies)*99/100)]
	return loadResult{requests: int64(len(latencies)), perSecond: float64(len(latencies)) / elapsed.Seconds(),
		p99ms: float64(p99) / float64(time.Millisecond)}
}

// insertFloor measures the storage floor of tokenize: a bare durable
// insert of a vault row of the same shape (its sealed fields as random
// bytes of an envelope's length), by vaultClients concurrent writers on
// SQLite with its group commit, in a database of its own in dir.
func insertFloor(ctx context.Context, dir string, d time.Duration) (loadResult, error) {
	db, err := sqlite.Open(ctx, filepath.Join(dir, "floor.db"), sqlite.Options{})
	if err != nil {
		return loadResult{}, err
	}
	defer db.Close()
	if err := db.Migrate(ctx, store.Component, store.Migrations); err != nil {
		return loadResult{}, err
	}
	sealed := func(n int) []byte {
		b := make([]byte, envelope.HeaderSize+12+n+16)
		rand.Read(b)
		return b
	}
	const insert = "INSERT INTO vault_cards (id, fingerprint, brand, first6, last4, pan, expiry, holder, " +
		"single_use, used_at, expires_at, created_at, created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"

	var (
		mu        sync.Mutex
		latencies []time.Duration
		failed    error
		wg        sync.WaitGroup
	)
	start := time.Now()
	deadline := start.Add(d)
	for range vaultClients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				id := make([]byte, 20)
				rand.Read(id)
				args := []any{fmt.Sprintf("tok_%x", id), sealed(16)[:16], "visa", "411111", "1111",
					sealed(16), sealed(7), sealed(12), int64(0), int64(0), int64(0), time.Now().UnixMicro(), "prn_app"}
				t0 := time.Now()
				err := db.Write(ctx, func(tx sqldb.Tx) error {
					_, err := tx.Exec(ctx, insert, args...)
					return err
				})
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			latencies = append(latencies, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	if failed != nil {
		return loadResult{}, fmt.Errorf("insert: %w", failed)
	}
	return summarize(latencies, time.Since(start)), nil
}
