package server_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/store"
)

// openTrail opens a real audit log in a new directory, signed by a
// keystore of its own.
func openTrail(t testing.TB) (*audit.Log, string) {
	t.Helper()
	ctx := context.Background()
	h := sqldbtest.Engines()[0].Open(t)
	ks, err := keys.Open(ctx, h.DB, &keys.FileProvider{Path: filepath.Join(t.TempDir(), "root.key")}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ks.Close)
	signer, err := ks.AuditSigner(audit.DefaultOrigin)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), audit.DirName)
	log, err := audit.Open(dir, audit.Options{Origin: audit.DefaultOrigin, Signer: signer})
	if err != nil {
		t.Fatal(err)
	}
	return log, dir
}

type auditFixture struct {
	*fixture
	api *server.API
	log *audit.Log
	dir string
}

func newAuditFixture(t *testing.T, auditor server.Auditor, appNet string) *auditFixture {
	t.Helper()
	log, dir := openTrail(t)
	if auditor == nil {
		auditor = log
	}
	_, s, pe := openStore(t, sqldbtest.Engines()[0], keys.Config{})
	api := server.New(server.Deps{Store: s, Policy: pe, Identity: principals, Audit: auditor, AuditReader: log.Reader(),
		Limits:   map[string]server.Limit{policy.RoleDBA: {Rate: 0.001, Burst: 1}},
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix(appNet)}}})
	srv := httptest.NewServer(api)
	t.Cleanup(func() {
		srv.Close()
		api.Close()
		log.Close()
	})
	return &auditFixture{fixture: &fixture{t: t, srv: srv, s: s}, api: api, log: log, dir: dir}
}

// records returns every record of the trail once the outcomes are in.
func (f *auditFixture) records() []audit.Entry {
	f.t.Helper()
	f.api.Close()
	var out []audit.Entry
	for e, err := range f.log.Reader().Scan(context.Background(), 0) {
		if err != nil {
			f.t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// byRequest groups records by request id.
func byRequest(es []audit.Entry) map[string][]audit.Entry {
	m := map[string][]audit.Entry{}
	for _, e := range es {
		m[e.Record.RequestID] = append(m[e.Record.RequestID], e)
	}
	return m
}

func TestAuditRecordsEveryRequest(t *testing.T) {
	f := newAuditFixture(t, nil, "127.0.0.0/8")
	_, c := f.do("app", "POST", "/v1/customers", ada) // allowed, PII in clear
	id := c["id"].(string)
	f.do("dev", "GET", "/v1/customers/"+id, nil) // allowed, masked
	f.do("sec", "GET", "/v1/customers/"+id, nil) // denied
	f.do("", "GET", "/v1/customers/"+id, nil)    // no credentials
	f.do("dba", "GET", "/v1/products", nil)      // allowed, uses the only token
	f.do("dba", "GET", "/v1/products", nil)      // rate limited

	got := byRequest(f.records())
	if len(got) != 6 {
		t.Fatalf("%d requests recorded, want 6", len(got))
	}
	var kinds []string
	for _, rs := range got {
		first, last := rs[0].Record, rs[len(rs)-1].Record
		if last.Phase != audit.PhaseOutcome {
			t.Fatalf("request %s has no outcome record", first.RequestID)
		}
		switch {
		case len(rs) == 2:
			if first.Phase != audit.PhaseRequest || last.RequestSeq != rs[0].Seq ||
				first.Decision.Effect != audit.EffectAllow || len(first.Decision.Policies) == 0 {
				t.Errorf("allowed request: %+v then %+v", first, last)
			}
			if first.Source.Address == "" || first.Principal.ID == "" || first.Action == "" {
				t.Errorf("request record without who, where or what: %+v", first)
			}
			kinds = append(kinds, first.Principal.ID+" "+first.Action+" "+strings.Join(last.Fields, ","))
		case len(rs) == 1:
			kinds = append(kinds, first.Principal.ID+" "+first.Action+" "+first.Decision.Effect.String()+" "+
				first.Outcome.ErrorCode)
		default:
			t.Errorf("request %s has %d records", first.RequestID, len(rs))
		}
	}
	slices.Sort(kinds)
	want := []string{
		" GET:/v1/customers/{id} none unauthenticated",
		"prn_app createCustomer customers.address,customers.email,customers.name,customers.phone",
		"prn_dba GET:/v1/products none rate_limited",
		"prn_dba listProducts ",
		"prn_dev readCustomer ",
		"prn_sec readCustomer deny forbidden",
	}
	if !slices.Equal(kinds, want) {
		t.Errorf("records:\n%s\nwant:\n%s", strings.Join(kinds, "\n"), strings.Join(want, "\n"))
	}

	// The segments hold none of the PII the requests carried.
	files, _ := filepath.Glob(filepath.Join(f.dir, "*"))
	for _, file := range files {
		b, _ := os.ReadFile(file)
		for _, v := range []string{"Ada Lovelace", "ada@example.com", "7946 0958", "St James"} {
			if strings.Contains(string(b), v) {
				t.Errorf("%s holds %q", filepath.Base(file), v)
			}
		}
	}
}

// flakyAuditor fails while down is set.
type flakyAuditor struct {
	log  *audit.Log
	down atomic.Bool
}

func (a *flakyAuditor) Append(ctx context.Context, r *audit.Record) (uint64, error) {
	if a.down.Load() {
		return 0, audit.ErrUnavailable
	}
	return a.log.Append(ctx, r)
}

func (a *flakyAuditor) AppendAsync(r *audit.Record, then func(uint64, error)) error {
	if a.down.Load() {
		return audit.ErrUnavailable
	}
	return a.log.AppendAsync(r, then)
}

func TestAuditFailsClosed(t *testing.T) {
	fa := &flakyAuditor{}
	f := newAuditFixture(t, fa, "127.0.0.0/8")
	fa.log = f.log
	_, c := f.do("app", "POST", "/v1/customers", ada)
	id := c["id"].(string)

	fa.down.Store(true)
	for _, req := range []struct {
		key, method, path string
		body              any
	}{
		{"app", "POST", "/v1/customers", map[string]any{"name": "Grace Hopper", "email": "grace@example.com"}},
		{"app", "GET", "/v1/customers/" + id, nil},
		{"dev", "GET", "/v1/customers/" + id, nil},
		{"app", "PATCH", "/v1/customers/" + id, map[string]any{"version": 1, "name": "Changed"}},
		{"dba", "GET", "/v1/products", nil},
	} {
		code, body := f.do(req.key, req.method, req.path, req.body)
		if code != http.StatusServiceUnavailable || body["code"] != "unavailable" {
			t.Errorf("%s %s with the trail down: %d %v, want 503", req.method, req.path, code, body)
		}
	}
	if _, err := f.s.FindCustomerByEmail(context.Background(), "grace@example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a customer was created while the trail was down: %v", err)
	}
	if cur, err := f.s.GetCustomer(context.Background(), id); err != nil || cur.Name != "Ada Lovelace" {
		t.Fatalf("a customer was changed while the trail was down: %+v, %v", cur, err)
	}

	fa.down.Store(false)
	if code, _ := f.do("app", "POST", "/v1/customers", map[string]any{"name": "Grace Hopper", "email": "grace@example.com"}); code != http.StatusCreated {
		t.Fatalf("after the trail came back: %d", code)
	}
}

func TestAuditAPI(t *testing.T) {
	// The trail is not readable from the application network, so here
	// it is elsewhere.
	f := newAuditFixture(t, nil, "10.1.0.0/16")
	c, err := f.s.CreateCustomer(context.Background(), store.NewCustomer{Name: "Ada Lovelace", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	id := c.ID
	f.do("dev", "GET", "/v1/customers/"+id, nil)
	f.do("sec", "GET", "/v1/customers/"+id, nil)
	f.api.Close()

	code, page := f.do("sec", "GET", "/v1/audit?principal=prn_dev&limit=10", nil)
	items, _ := page["items"].([]any)
	if code != http.StatusOK || len(items) != 2 {
		t.Fatalf("GET /v1/audit as security: %d %v", code, page)
	}
	first := items[0].(map[string]any)
	if first["action"] != "readCustomer" || first["decision"].(map[string]any)["effect"] != "allow" {
		t.Errorf("first record %v", first)
	}
	code, page = f.do("sec", "GET", "/v1/audit?outcome=denied", nil)
	if items, _ := page["items"].([]any); code != http.StatusOK || len(items) == 0 {
		t.Fatalf("denied records: %d %v", code, page)
	}
	for _, bad := range []string{"outcome=maybe", "since=yesterday", "cursor=zzz"} {
		if code, _ := f.do("sec", "GET", "/v1/audit?"+bad, nil); code != http.StatusBadRequest {
			t.Errorf("GET /v1/audit?%s: %d, want 400", bad, code)
		}
	}
	for _, who := range []string{"dev", "app", "dba", "admin"} {
		if code, _ := f.do(who, "GET", "/v1/audit", nil); code != http.StatusForbidden {
			t.Errorf("GET /v1/audit as %s: %d, want 403", who, code)
		}
	}
}
