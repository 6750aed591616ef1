package server_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/tlsca"
)

// idemFixture serves the whole API on one engine and keeps the database
// handle, so a test can read what the idempotency records hold.
type idemFixture struct {
	*fixture
	h   *sqldbtest.Handle
	dir *identity.Directory
}

func newIdemFixture(t *testing.T, eng sqldbtest.Engine) *idemFixture {
	t.Helper()
	ctx := context.Background()
	h, s, pe := openStore(t, eng, keys.Config{})
	dir, err := identity.Open(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	dir.SetPasswordCost(cheapArgon)
	ca, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pv, err := versions.Open(ctx, h.DB)
	if err != nil {
		t.Fatal(err)
	}
	api := server.New(server.Deps{Store: s, Policy: pe, Directory: dir, CA: ca, Policies: pv,
		Payments: payments.New(s), Identity: chained{server.Directory{Dir: dir, CA: ca}, principals},
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &idemFixture{fixture: &fixture{t: t, srv: srv, s: s}, h: h, dir: dir}
}

// send posts raw JSON (nil: no body) with an Idempotency-Key and returns
// the status, the headers and the decoded answer.
func (f *idemFixture) send(key, idem, path string, body any) (int, http.Header, map[string]any) {
	f.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest("POST", f.srv.URL+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, resp.Header, out
}

// idemRecords returns the idempotency records of key, each as the text of
// all its columns.
func (f *idemFixture) idemRecords(key string) []string {
	f.t.Helper()
	var out []string
	err := f.h.Read(context.Background(), func(tx sqldb.Tx) error {
		rows, err := tx.Query(context.Background(),
			"SELECT principal, idem_key, request_hash, resource_id FROM idempotency WHERE idem_key = ?", key)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var p, k, id string
			var hash []byte
			if err := rows.Scan(&p, &k, &hash, &id); err != nil {
				return err
			}
			out = append(out, strings.Join([]string{p, k, string(hash), id}, "\x00"))
		}
		return rows.Err()
	})
	if err != nil {
		f.t.Fatal(err)
	}
	return out
}

// noSecretStored checks that key has one record naming id, and that
// neither that record nor, on SQLite, any byte of the database files holds
// the secret.
func (f *idemFixture) noSecretStored(key, id, secret string) {
	f.t.Helper()
	f.recordHoldsNoSecret(key, id, secret)
	if f.h.Engine() != sqldb.SQLite {
		return
	}
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(f.h.Path + suffix)
		if err != nil && !os.IsNotExist(err) {
			f.t.Fatal(err)
		}
		if bytes.Contains(b, []byte(secret)) {
			f.t.Fatalf("the database file %s holds the secret", f.h.Path+suffix)
		}
	}
}

// recordHoldsNoSecret checks that key has one record, naming id and not
// holding the secret.
func (f *idemFixture) recordHoldsNoSecret(key, id, secret string) {
	f.t.Helper()
	if len(secret) < 16 {
		f.t.Fatalf("secret %d bytes long: the check would prove nothing", len(secret))
	}
	recs := f.idemRecords(key)
	if len(recs) != 1 || !strings.HasSuffix(recs[0], "\x00"+id) {
		f.t.Fatalf("key %s: %d records, want one naming %s", key, len(recs), id)
	}
	if strings.Contains(recs[0], secret) {
		f.t.Fatalf("the idempotency record of %s holds the secret", key)
	}
}

// withheld checks a retry's answer: 409, the stable code, the resource
// of the first request, and no secret.
func withheld(t *testing.T, code int, body map[string]any, kind, id, secret string) {
	t.Helper()
	res, _ := body["resource"].(map[string]any)
	if code != http.StatusConflict || body["code"] != "idempotent_replay_secret_withheld" ||
		res["type"] != kind || res["id"] != id {
		t.Fatalf("retry: %d %v, want 409 naming %s %s", code, body, kind, id)
	}
	b, _ := json.Marshal(body)
	if bytes.Contains(b, []byte(secret)) {
		t.Fatalf("the retry's answer holds the secret: %s", b)
	}
}

func refused(t *testing.T, code int, body map[string]any) {
	t.Helper()
	if code != http.StatusUnprocessableEntity || body["code"] != "idempotency_key_reused" {
		t.Fatalf("same key, another request: %d %v", code, body)
	}
}

func TestIdempotentPrincipalAndKey(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newIdemFixture(t, eng)
			ctx := context.Background()
			count := func() int {
				ps, err := f.dir.ListPrincipals(ctx)
				if err != nil {
					t.Fatal(err)
				}
				return len(ps)
			}
			before := count()
			in := map[string]any{"name": "storefront", "kind": "service", "roles": []string{"app-service"}}
			code, _, p := f.send("admin", "svc-1", "/v1/principals", in)
			secret, _ := p["api_key"].(string)
			if code != http.StatusCreated || secret == "" {
				t.Fatalf("create principal: %d %v", code, p)
			}
			id := p["id"].(string)
			code, _, again := f.send("admin", "svc-1", "/v1/principals", in)
			withheld(t, code, again, "principal", id, secret)
			if n := count(); n != before+1 {
				t.Fatalf("%d principals created, want 1", n-before)
			}
			other := map[string]any{"name": "warehouse", "kind": "service", "roles": []string{"app-service"}}
			code, _, body := f.send("admin", "svc-1", "/v1/principals", other)
			refused(t, code, body)
			f.noSecretStored("svc-1", id, secret)

			// A second key for the same principal.
			keys := func() int {
				got, err := f.dir.GetPrincipal(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				return len(got.Keys)
			}
			path := "/v1/principals/" + id + "/keys"
			code, _, k := f.send("admin", "key-1", path, map[string]any{"key_ttl_days": 30})
			keySecret, _ := k["api_key"].(string)
			if code != http.StatusCreated || keySecret == "" {
				t.Fatalf("create key: %d %v", code, k)
			}
			code, _, again = f.send("admin", "key-1", path, map[string]any{"key_ttl_days": 30})
			withheld(t, code, again, "api_key", k["id"].(string), keySecret)
			if n := keys(); n != 2 {
				t.Fatalf("%d keys, want 2", n)
			}
			code, _, body = f.send("admin", "key-1", path, map[string]any{"key_ttl_days": 7})
			refused(t, code, body)
			f.noSecretStored("key-1", k["id"].(string), keySecret)

			// The first answer's key authenticates.
			if code, _ := f.do(keySecret, "GET", "/v1/customers", nil); code == http.StatusUnauthorized {
				t.Fatalf("the key issued once: %d", code)
			}
		})
	}
}

func TestIdempotentCertificate(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newIdemFixture(t, eng)
			svc, err := f.dir.CreatePrincipal(context.Background(), "storefront", identity.KindService,
				[]identity.Role{identity.RoleAppService})
			if err != nil {
				t.Fatal(err)
			}
			path := "/v1/principals/" + svc.ID + "/certificates"
			code, _, c := f.send("admin", "cert-1", path, map[string]any{"validity_hours": 2})
			keyPEM, _ := c["private_key_pem"].(string)
			if code != http.StatusCreated || keyPEM == "" {
				t.Fatalf("issue certificate: %d %v", code, c)
			}
			block, _ := pem.Decode([]byte(c["certificate_pem"].(string)))
			cert, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			serial := cert.SerialNumber.Text(16)
			code, _, again := f.send("admin", "cert-1", path, map[string]any{"validity_hours": 2})
			withheld(t, code, again, "certificate", serial, keyPEM)
			if again["certificate_pem"] != nil || again["private_key_pem"] != nil {
				t.Fatalf("the retry issued a certificate: %v", again)
			}
			code, _, body := f.send("admin", "cert-1", path, map[string]any{"validity_hours": 3})
			refused(t, code, body)
			// The private key's base64 body is the secret; its PEM lines
			// are checked one by one so that no wrapping hides it.
			for _, line := range strings.Split(keyPEM, "\n") {
				if len(line) >= 16 && !strings.HasPrefix(line, "-----") {
					f.noSecretStored("cert-1", serial, line)
				}
			}
		})
	}
}

func TestIdempotentCustomerToken(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newIdemFixture(t, eng)
			a := newShopper(t, f.s, "a@example.com")
			b := newShopper(t, f.s, "b@example.com")
			path := "/v1/customers/" + a.id + "/tokens"
			code, _, tok := f.send("app", "tok-1", path, nil)
			secret, _ := tok["token"].(string)
			if code != http.StatusCreated || !strings.HasPrefix(secret, "sct_") {
				t.Fatalf("issue token: %d %v", code, tok)
			}
			code, _, again := f.send("app", "tok-1", path, nil)
			withheld(t, code, again, "customer_token", a.id, secret)
			// Another customer is another request.
			code, _, body := f.send("app", "tok-1", "/v1/customers/"+b.id+"/tokens", nil)
			refused(t, code, body)
			f.noSecretStored("tok-1", a.id, secret)
			if code, _ := f.do(secret, "GET", "/v1/customers/"+a.id, nil); code != http.StatusOK {
				t.Fatalf("the token issued once: %d", code)
			}
		})
	}
}

func TestIdempotentPolicyChanges(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newIdemFixture(t, eng)
			stored := func() int {
				code, body := f.do("sec", "GET", "/v1/policies", nil)
				if code != http.StatusOK {
					t.Fatalf("list versions: %d %v", code, body)
				}
				return len(body["items"].([]any))
			}
			base := stored()
			in := map[string]any{"source": noDevLogs, "note": "no logs for developers"}
			code, h, v1 := f.send("admin", "apply-1", "/v1/policies", in)
			if code != http.StatusCreated || v1["version"] != 1.0 || h.Get("Idempotent-Replayed") != "" {
				t.Fatalf("apply: %d %v", code, v1)
			}
			code, h, again := f.send("admin", "apply-1", "/v1/policies", in)
			if code != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" || !equalJSON(v1, again) {
				t.Fatalf("retried apply: %d %v, first %v", code, again, v1)
			}
			if n := stored() - base; n != 1 {
				t.Fatalf("%d versions stored, want 1", n)
			}
			code, _, body := f.send("admin", "apply-1", "/v1/policies", map[string]any{"source": noDevLogs, "note": "x"})
			refused(t, code, body)

			code, _, r := f.send("admin", "back-1", "/v1/policies/0/rollback", nil)
			if code != http.StatusCreated || r["version"] != 2.0 || r["rollback_of"] != 0.0 {
				t.Fatalf("rollback: %d %v", code, r)
			}
			code, h, again = f.send("admin", "back-1", "/v1/policies/0/rollback", nil)
			if code != http.StatusCreated || h.Get("Idempotent-Replayed") != "true" || !equalJSON(r, again) {
				t.Fatalf("retried rollback: %d %v, first %v", code, again, r)
			}
			if n := stored() - base; n != 2 {
				t.Fatalf("%d versions stored, want 2", n)
			}
			code, _, body = f.send("admin", "back-1", "/v1/policies/1/rollback", nil)
			refused(t, code, body)

			// The first version is no longer active: its replay says so.
			code, _, again = f.send("admin", "apply-1", "/v1/policies", in)
			if code != http.StatusCreated || again["version"] != 1.0 || again["active"] != false {
				t.Fatalf("apply replayed after a rollback: %d %v", code, again)
			}
		})
	}
}

// TestSignInIgnoresIdempotencyKey checks that sign-in keeps no record of
// an Idempotency-Key, and that a retry with the same one-time code opens
// no second session.
func TestSignInIgnoresIdempotencyKey(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newIdemFixture(t, eng)
			ctx := context.Background()
			p, err := f.dir.CreatePrincipal(ctx, "dba-ann", identity.KindPerson, []identity.Role{identity.RoleDBA})
			if err != nil {
				t.Fatal(err)
			}
			if err := f.dir.SetPassword(ctx, p.ID, strongPassword); err != nil {
				t.Fatal(err)
			}
			e, _ := f.dir.BeginTOTP(ctx, p.ID)
			recovery, err := f.dir.ConfirmTOTP(ctx, p.ID, totpCode(t, e.Secret))
			if err != nil {
				t.Fatal(err)
			}
			in := map[string]any{"name": "dba-ann", "password": strongPassword, "code": recovery[0]}
			code, _, s := f.send("", "signin-1", "/v1/sessions", in)
			if code != http.StatusCreated || s["token"] == nil {
				t.Fatalf("sign in: %d %v", code, s)
			}
			code, _, again := f.send("", "signin-1", "/v1/sessions", in)
			if code != http.StatusUnauthorized || again["token"] != nil {
				t.Fatalf("retried sign-in: %d %v, want 401", code, again)
			}
			// The key names nothing: another code with it signs in.
			in["code"] = recovery[1]
			code, _, s2 := f.send("", "signin-1", "/v1/sessions", in)
			if code != http.StatusCreated || s2["token"] == s["token"] {
				t.Fatalf("sign in with the same key and another code: %d %v", code, s2)
			}
			if recs := f.idemRecords("signin-1"); len(recs) != 0 {
				t.Fatalf("sign-in kept %d idempotency records", len(recs))
			}
		})
	}
}

// TestDetokenizeKeepsNoIdempotencyRecord checks that detokenize, whose
// answer holds a card number, neither replays an answer nor records the
// key.
func TestDetokenizeKeepsNoIdempotencyRecord(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newVaultFixture(t, eng, "127.0.0.0/8")
			card := map[string]any{"pan": "4111111111111111", "exp_month": 12, "exp_year": 2040}
			code, _, raw := f.call("app", "POST", "/v1/payments/tokenize", card)
			if code != http.StatusCreated {
				t.Fatalf("tokenize: %d %s", code, raw)
			}
			var tok map[string]any
			json.Unmarshal(raw, &tok)
			body, _ := json.Marshal(map[string]any{"token": tok["token"], "purpose": "capture"})
			for range 2 {
				req, _ := http.NewRequest("POST", f.url+"/v1/payments/detokenize", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Idempotency-Key", "detok-1")
				resp, err := f.tls.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				out, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Idempotent-Replayed") != "" ||
					!bytes.Contains(out, []byte("4111111111111111")) {
					t.Fatalf("detokenize with a key: %d %s", resp.StatusCode, resp.Header)
				}
			}
			// Claiming the key succeeds only if no record of it was kept.
			sum := sha256.Sum256([]byte("probe"))
			prev, err := f.s.ClaimIdempotency(context.Background(), "prn_pay", "detok-1", sum[:])
			if err != nil || prev != "" {
				t.Fatalf("detokenize left an idempotency record: %q %v", prev, err)
			}
		})
	}
}

func TestIdempotentTOTPEnrollment(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			f := newIdemFixture(t, eng)
			ctx := context.Background()
			var ids []string
			for _, name := range []string{"ann", "bob"} {
				p, err := f.dir.CreatePrincipal(ctx, name, identity.KindPerson, []identity.Role{identity.RoleDBA})
				if err != nil {
					t.Fatal(err)
				}
				ids = append(ids, p.ID)
			}
			path := "/v1/principals/" + ids[0] + "/totp"
			code, _, e := f.send("admin", "totp-1", path, nil)
			secret, _ := e["secret"].(string)
			if code != http.StatusCreated || secret == "" {
				t.Fatalf("begin TOTP: %d %v", code, e)
			}
			code, _, again := f.send("admin", "totp-1", path, nil)
			withheld(t, code, again, "totp_enrollment", ids[0], secret)
			code, _, body := f.send("admin", "totp-1", "/v1/principals/"+ids[1]+"/totp", nil)
			refused(t, code, body)
			// The directory keeps the pending secret itself, sealed when a
			// sealer is set (this fixture sets none), so only the record is
			// checked here.
			f.recordHoldsNoSecret("totp-1", ids[0], secret)
			// The retry replaced nothing: the first secret still confirms.
			if _, err := f.dir.ConfirmTOTP(ctx, ids[0], totpCode(t, secret)); err != nil {
				t.Fatalf("confirm with the first secret: %v", err)
			}
		})
	}
}

// TestOpenAPIDocumentsIdempotencyKey checks that every POST answering 201
// Created documents the Idempotency-Key header and what a retry gets.
func TestOpenAPIDocumentsIdempotencyKey(t *testing.T) {
	raw, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In, Description string }
			Responses  map[string]any
		}
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	n := 0
	for path, ops := range doc.Paths {
		op, ok := ops["post"]
		if _, created := op.Responses["201"]; !ok || !created {
			continue
		}
		n++
		found := false
		for _, p := range op.Parameters {
			if p.Name == "Idempotency-Key" && p.In == "header" && p.Description != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("POST %s creates but does not document Idempotency-Key", path)
		}
	}
	if n < 10 {
		t.Fatalf("%d creating POSTs found in the document", n)
	}
}
