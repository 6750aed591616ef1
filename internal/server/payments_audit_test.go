package server_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/tlsca"
)

// TestDetokenizeRecordsTokenAndPurpose detokenizes over mTLS with an audit
// trail and checks that the records name the token and the stated purpose,
// that GET /v1/audit shows and filters by the purpose, and that no record
// and no file of the trail holds the card number, even when a client sends
// a card number where the token belongs.
func TestDetokenizeRecordsTokenAndPurpose(t *testing.T) {
	const pan = "4242424242424242"
	log, dir := openTrail(t)
	_, s, pe := openStore(t, sqldbtest.Engines()[0], keys.Config{})
	ca, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	loop := []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: certKeys{principals, ca}, Payments: payments.New(s),
		Audit: log, AuditReader: log.Reader(),
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: loop, policy.NetworkPayment: loop}})
	certs, err := tlsca.NewServerCerts(context.Background(), ca, tlsca.ServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { certs.Close() })
	srv := httptest.NewUnstartedServer(api)
	srv.TLS = tlsca.ServerConfig(certs.GetCertificate, ca.Pool())
	srv.StartTLS()
	t.Cleanup(func() {
		srv.Close()
		api.Close()
		log.Close()
	})
	certPEM, keyPEM, err := ca.IssueClient("prn_pay", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(ca.Certificate())
	f := &vaultFixture{t: t, s: s, url: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1),
		plain: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}},
		tls: &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool,
			Certificates: []tls.Certificate{pair}}}}}

	code, _, raw := f.call("app", "POST", "/v1/payments/tokenize",
		map[string]any{"pan": pan, "exp_month": 12, "exp_year": 2031, "cardholder_name": "Card Holder"})
	if code != http.StatusCreated && code != http.StatusOK {
		t.Fatalf("tokenize: %d %s", code, raw)
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(raw, &tok); err != nil || tok.Token == "" {
		t.Fatalf("tokenize: %s", raw)
	}
	token := tok.Token
	if code, _, raw := f.call("", "POST", "/v1/payments/detokenize",
		map[string]any{"token": token, "purpose": "refund"}); code != http.StatusOK || !strings.Contains(string(raw), pan) {
		t.Fatalf("detokenize: %d", code)
	}
	// A card number sent as the token: refused, and recorded masked.
	if code, _, _ := f.call("", "POST", "/v1/payments/detokenize",
		map[string]any{"token": pan, "purpose": "capture"}); code != http.StatusNotFound {
		t.Fatalf("detokenize of a card number: %d", code)
	}
	api.Close()

	var detok []audit.Entry
	for e, err := range log.Reader().Scan(context.Background(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		b, err := e.Record.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(b), pan) || strings.Contains(string(b), pan[:12]) {
			t.Fatalf("record %d holds the card number", e.Seq)
		}
		if e.Record.Action == policy.Detokenize {
			detok = append(detok, e)
		}
	}
	if len(detok) != 4 {
		t.Fatalf("%d detokenize records, want 4 (request and outcome of two calls)", len(detok))
	}
	req, out := detok[0].Record, detok[1].Record
	if req.Phase != audit.PhaseRequest || out.Phase != audit.PhaseOutcome || out.RequestSeq != detok[0].Seq {
		t.Fatalf("detokenize records: %+v then %+v", req, out)
	}
	for _, r := range []*audit.Record{req, out} {
		if r.Resource != (audit.Resource{Type: "CardToken", ID: token}) || r.Purpose != "refund" {
			t.Errorf("%s record names %+v for %q", r.Phase, r.Resource, r.Purpose)
		}
	}
	if out.Outcome.Status != http.StatusOK || !slices.Contains(out.Fields, "vault_cards.pan") {
		t.Errorf("outcome %+v with fields %v", out.Outcome, out.Fields)
	}
	if bad := detok[3].Record; bad.Purpose != "capture" || bad.Outcome.Status != http.StatusNotFound ||
		bad.Resource.Type != "CardToken" || bad.Resource.ID == pan {
		t.Errorf("refused detokenize recorded as %+v", bad)
	}

	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		if strings.Contains(string(b), pan) {
			t.Errorf("%s holds the card number", filepath.Base(file))
		}
	}

	// The security team reads the purpose, from outside the application
	// network, and filters by it.
	reader := httptest.NewServer(server.New(server.Deps{Policy: pe, Identity: principals, AuditReader: log.Reader()}))
	t.Cleanup(reader.Close)
	rf := &fixture{t: t, srv: reader}
	code, page := rf.do("sec", "GET", "/v1/audit?purpose=refund", nil)
	items, _ := page["items"].([]any)
	if code != http.StatusOK || len(items) != 2 {
		t.Fatalf("GET /v1/audit?purpose=refund: %d, %d items", code, len(items))
	}
	for _, it := range items {
		m := it.(map[string]any)
		if m["purpose"] != "refund" || m["resource"].(map[string]any)["id"] != token {
			t.Errorf("item %v", m)
		}
	}
}
