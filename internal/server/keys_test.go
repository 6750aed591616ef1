package server_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// openKeystore is openStore that also returns the keystore.
func openKeystore(t testing.TB, eng sqldbtest.Engine, cfg keys.Config) (*sqldbtest.Handle, *store.Store, *keys.Keystore) {
	t.Helper()
	ctx := context.Background()
	h := eng.Open(t)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	s, err := store.Open(ctx, h.DB, ks)
	if err != nil {
		t.Fatal(err)
	}
	return h, s, ks
}

// recordingAuditor keeps the records appended to it.
type recordingAuditor struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (a *recordingAuditor) Append(_ context.Context, r *audit.Record) (uint64, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.recs = append(a.recs, *r)
	return uint64(len(a.recs)), nil
}

func (a *recordingAuditor) AppendAsync(r *audit.Record, then func(uint64, error)) error {
	then(a.Append(context.Background(), r))
	return nil
}

// requests returns the request records of action.
func (a *recordingAuditor) requests(action string) []audit.Record {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []audit.Record
	for _, r := range a.recs {
		if r.Phase == audit.PhaseRequest && r.Action == action {
			out = append(out, r)
		}
	}
	return out
}

// keyAdmins are the callers of the keys tests beside the matrix's roles:
// an admin person with and without MFA.
var keyAdmins = staticKeys{
	"sec":          principals["sec"],
	"dba":          principals["dba"],
	"admin-person": {ID: "prn_ap", Kind: policy.KindPerson, Roles: []string{policy.RoleAdmin}},
	"admin-mfa":    {ID: "prn_am", Kind: policy.KindPerson, Roles: []string{policy.RoleAdmin}, MFA: true},
}

func TestKeysAPI(t *testing.T) {
	for _, eng := range sqldbtest.Engines() {
		t.Run(eng.Name, func(t *testing.T) {
			ctx := context.Background()
			_, s, ks := openKeystore(t, eng, keys.Config{})
			pe, err := policy.Default()
			if err != nil {
				t.Fatal(err)
			}
			rec := &recordingAuditor{}
			srv := httptest.NewServer(server.New(server.Deps{Store: s, Policy: pe, Identity: keyAdmins,
				Keys: ks, Audit: rec}))
			t.Cleanup(srv.Close)
			f := &fixture{t: t, srv: srv, s: s}
			c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Key Holder", Email: "holder@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			testKeysList(t, f)
			testKeysRotate(t, f, rec)
			testKeysDestroy(t, f)
			testKeysBlindIndex(t, f, s, c.ID)
		})
	}
}

// testKeysList: security and admins read the versions, never key
// material; nobody else does.
func testKeysList(t *testing.T, f *fixture) {
	code, body := f.do("sec", "GET", "/v1/keys", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/keys as security: %d %v", code, body)
	}
	items := body["items"].([]any)
	if len(items) != len(envelope.Domains) {
		t.Fatalf("%d versions, want one per domain: %v", len(items), items)
	}
	for _, it := range items {
		k := it.(map[string]any)
		if k["version"] != 1.0 || k["state"] != "active" || k["created_at"] == nil || k["age_seconds"] == nil {
			t.Errorf("version %v", k)
		}
		if len(k) != 7 {
			t.Errorf("a version shows more than its metadata: %v", k)
		}
		if k["domain"] == "customer-pii" && k["data_keys"].(float64) < 1 {
			t.Errorf("the customer's data key is not counted: %v", k)
		}
	}
	for _, who := range []string{"dba", "admin-person"} {
		if code, _ := f.do(who, "GET", "/v1/keys", nil); code != http.StatusForbidden {
			t.Errorf("GET /v1/keys as %s: %d, want 403", who, code)
		}
	}
	if code, _ := f.do("admin-mfa", "GET", "/v1/keys", nil); code != http.StatusOK {
		t.Errorf("GET /v1/keys as an admin with MFA: %d", code)
	}
}

// testKeysRotate: only an admin with MFA rotates; the request record
// names the domain.
func testKeysRotate(t *testing.T, f *fixture, rec *recordingAuditor) {
	for _, who := range []string{"sec", "dba", "admin-person"} {
		if code, body := f.do(who, "POST", "/v1/keys/customer-pii/rotate", nil); code != http.StatusForbidden {
			t.Errorf("rotate as %s: %d %v, want 403", who, code, body)
		}
	}
	code, body := f.do("admin-mfa", "POST", "/v1/keys/customer-pii/rotate", nil)
	if code != http.StatusOK || body["version"] != 2.0 || body["domain"] != "customer-pii" {
		t.Fatalf("rotate as an admin with MFA: %d %v", code, body)
	}
	code, body = f.do("admin-mfa", "POST", "/v1/keys/no-such/rotate", nil)
	if code != http.StatusNotFound || body["code"] != "unknown_key_domain" {
		t.Errorf("rotate an unknown domain: %d %v", code, body)
	}
	reqs := rec.requests(policy.ManageKeys)
	if len(reqs) == 0 || reqs[0].Resource != (audit.Resource{Type: "KeyDomain", ID: "customer-pii"}) ||
		reqs[0].Principal.ID != "prn_am" || reqs[0].Decision.Effect != audit.EffectAllow {
		t.Fatalf("the rotation's request record: %+v", reqs)
	}
}

// testKeysDestroy: a version still in use is refused and says why; after
// the rewrap it is destroyed, and a second destroy changes nothing.
func testKeysDestroy(t *testing.T, f *fixture) {
	for _, tc := range []struct {
		path string
		code int
		want string
	}{
		{"/v1/keys/customer-pii/versions/1/destroy", http.StatusConflict, "data keys are wrapped under version 1"},
		{"/v1/keys/customer-pii/versions/2/destroy", http.StatusConflict, "version 2 is active"},
		{"/v1/keys/customer-pii/versions/9/destroy", http.StatusNotFound, ""},
		{"/v1/keys/customer-pii/versions/0/destroy", http.StatusBadRequest, ""},
		{"/v1/keys/customer-pii/versions/x/destroy", http.StatusBadRequest, ""},
		{"/v1/keys/nope/versions/1/destroy", http.StatusNotFound, ""},
	} {
		code, body := f.do("admin-mfa", "POST", tc.path, nil)
		detail, _ := body["detail"].(string)
		if code != tc.code || !strings.Contains(detail, tc.want) {
			t.Errorf("POST %s: %d %v", tc.path, code, body)
		}
	}
	if code, body := f.do("admin-mfa", "POST", "/v1/keys/rewrap", map[string]any{"domain": "customer-pii", "x": 1}); code != http.StatusBadRequest {
		t.Errorf("rewrap with an unknown field: %d %v", code, body)
	}
	if code, body := f.do("admin-mfa", "POST", "/v1/keys/rewrap", map[string]any{}); code != http.StatusBadRequest ||
		body["field"] != "domain" {
		t.Errorf("rewrap without a domain: %d %v", code, body)
	}
	if code, _ := f.do("admin-person", "POST", "/v1/keys/rewrap", map[string]any{"domain": "customer-pii"}); code != http.StatusForbidden {
		t.Errorf("rewrap without MFA: %d", code)
	}
	code, body := f.do("admin-mfa", "POST", "/v1/keys/rewrap", map[string]any{"domain": "customer-pii"})
	if code != http.StatusOK || body["rewrapped"].(float64) < 1 || body["remaining"] != 0.0 || body["done"] != true {
		t.Fatalf("rewrap: %d %v", code, body)
	}
	for range 2 {
		code, body = f.do("admin-mfa", "POST", "/v1/keys/customer-pii/versions/1/destroy", nil)
		if code != http.StatusOK || body["state"] != "destroyed" {
			t.Fatalf("destroy the rewrapped version: %d %v", code, body)
		}
	}
}

// testKeysBlindIndex: the rewrap of the blind-index domain moves the
// email tokens, after which its old version can go and lookups still find
// the customer.
func testKeysBlindIndex(t *testing.T, f *fixture, s *store.Store, id string) {
	if code, body := f.do("admin-mfa", "POST", "/v1/keys/blind-index/rotate", nil); code != http.StatusOK {
		t.Fatalf("rotate blind-index: %d %v", code, body)
	}
	code, body := f.do("admin-mfa", "POST", "/v1/keys/blind-index/versions/1/destroy", nil)
	if code != http.StatusConflict || body["code"] != "key_in_use" {
		t.Fatalf("destroy blind-index 1 before the re-index: %d %v", code, body)
	}
	code, body = f.do("admin-mfa", "POST", "/v1/keys/rewrap", map[string]any{"domain": "blind-index"})
	if code != http.StatusOK || body["reindexed"] != 1.0 || body["done"] != true {
		t.Fatalf("rewrap blind-index: %d %v", code, body)
	}
	if code, body := f.do("admin-mfa", "POST", "/v1/keys/blind-index/versions/1/destroy", nil); code != http.StatusOK {
		t.Fatalf("destroy blind-index 1 after the re-index: %d %v", code, body)
	}
	c, err := s.FindCustomerByEmail(context.Background(), "holder@example.com")
	if err != nil || c.ID != id {
		t.Fatalf("lookup after the blind-index rotation: %+v, %v", c, err)
	}
}
