package server_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
	"github.com/securecart/securecart/internal/tlsca"
)

// cheapArgon keeps password hashing fast in tests.
var cheapArgon = identity.Argon2Params{Time: 1, MemoryKiB: 64, Threads: 1}

const strongPassword = "copper-meadow-violin-93"

// chained authenticates the directory's credentials and, failing that,
// the fixed test keys.
type chained struct {
	dir server.Directory
	staticKeys
}

func (c chained) AuthenticateKey(ctx context.Context, key string) (server.Principal, error) {
	if p, err := c.dir.AuthenticateKey(ctx, key); err == nil {
		return p, nil
	}
	return c.staticKeys.AuthenticateKey(ctx, key)
}

// newDirFixture serves the API with a real identity directory, the policy
// store and the card vault. The isolation test makes more calls than a
// customer's default limit allows; TestCustomerTokenRateLimit checks that
// limit.
func newDirFixture(t *testing.T, limit server.Limit) (*fixture, *identity.Directory) {
	return newDirFixtureLimits(t, limit, map[string]server.Limit{policy.KindCustomer: {Rate: 1000, Burst: 1000}})
}

func newDirFixtureLimits(t *testing.T, limit server.Limit, limits map[string]server.Limit) (*fixture, *identity.Directory) {
	t.Helper()
	h, s, pe := openStore(t, sqldbtest.Engines()[0], keys.Config{})
	dir, err := identity.Open(context.Background(), h.DB)
	if err != nil {
		t.Fatal(err)
	}
	dir.SetPasswordCost(cheapArgon)
	ca, err := tlsca.OpenCA(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	pv, err := versions.Open(context.Background(), h.DB)
	if err != nil {
		t.Fatal(err)
	}
	api := server.New(server.Deps{Store: s, Policy: pe, Directory: dir, CA: ca, SignInLimit: limit, Limits: limits,
		Policies: pv, Payments: payments.New(s),
		Identity: chained{server.Directory{Dir: dir, CA: ca}, principals},
		Networks: map[string][]netip.Prefix{policy.NetworkApplication: {netip.MustParsePrefix("127.0.0.0/8")}}})
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &fixture{t: t, srv: srv, s: s}, dir
}

func totpCode(t *testing.T, secret string) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFirstAdminEnrolment walks the bootstrap key through enrolling the
// first admin, after which it does nothing, and the admin works only
// with a session.
func TestFirstAdminEnrolment(t *testing.T) {
	f, dir := newDirFixture(t, server.Limit{})
	boot, _, err := dir.EnsureBootstrap(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bk := boot.Reveal()

	if code, _ := f.do(bk, "GET", "/v1/principals", nil); code != 403 {
		t.Fatalf("bootstrap lists principals: %d", code)
	}
	if code, _ := f.do(bk, "POST", "/v1/principals", map[string]any{"name": "svc", "kind": "service",
		"roles": []string{"admin"}}); code != 403 {
		t.Fatalf("bootstrap creates a service admin: %d", code)
	}
	code, p := f.do(bk, "POST", "/v1/principals", map[string]any{"name": "root", "kind": "person",
		"roles": []string{"admin"}})
	if code != 201 {
		t.Fatalf("create admin person: %d %v", code, p)
	}
	id, personKey := p["id"].(string), p["api_key"].(string)

	if code, body := f.do(bk, "POST", "/v1/principals/"+id+"/password",
		map[string]any{"password": "password123456"}); code != 400 || body["field"] != "password" {
		t.Fatalf("common password: %d %v", code, body)
	}
	if code, _ := f.do(bk, "POST", "/v1/principals/"+id+"/password",
		map[string]any{"password": strongPassword}); code != 204 {
		t.Fatalf("set password: %d", code)
	}
	// The person finishes with their own key.
	code, e := f.do(personKey, "POST", "/v1/principals/"+id+"/totp", nil)
	if code != 201 || e["secret"] == nil {
		t.Fatalf("begin totp: %d %v", code, e)
	}
	secret := e["secret"].(string)
	code, rc := f.do(personKey, "POST", "/v1/principals/"+id+"/totp/confirm",
		map[string]any{"code": totpCode(t, secret)})
	if code != 200 || len(rc["recovery_codes"].([]any)) != 10 {
		t.Fatalf("confirm: %d %v", code, rc)
	}
	if code, _ := f.do(bk, "POST", "/v1/principals", map[string]any{"name": "root2", "kind": "person",
		"roles": []string{"admin"}}); code != 401 {
		t.Fatalf("bootstrap key after the first admin: %d", code)
	}

	// Without MFA the admin person may not administer; with a session it may.
	if code, _ := f.do(personKey, "GET", "/v1/principals", nil); code != 403 {
		t.Fatalf("admin person without MFA: %d", code)
	}
	if code, _ := f.do(personKey, "POST", "/v1/principals/"+id+"/totp", nil); code != 403 {
		t.Fatalf("re-enrolled TOTP without a session: %d", code)
	}
	recovery := rc["recovery_codes"].([]any)[0].(string)
	code, s := f.do("", "POST", "/v1/sessions", map[string]any{"name": "root", "password": strongPassword,
		"code": recovery})
	if code != 201 || !strings.HasPrefix(s["token"].(string), "scs_") {
		t.Fatalf("sign in: %d %v", code, s)
	}
	session := s["token"].(string)
	if code, _ := f.do(session, "GET", "/v1/principals", nil); code != 200 {
		t.Fatalf("admin with a session: %d", code)
	}
	if code, _ := f.do("", "POST", "/v1/sessions", map[string]any{"name": "root", "password": strongPassword,
		"code": recovery}); code != 401 {
		t.Fatalf("recovery code used twice: %d", code)
	}
	if code, _ := f.do(session, "DELETE", "/v1/sessions/current", nil); code != 204 {
		t.Fatalf("sign out: %d", code)
	}
	if code, _ := f.do(session, "GET", "/v1/principals", nil); code != 401 {
		t.Fatalf("after sign-out: %d", code)
	}
}

// TestSignInAnswersAlike checks that a locked account, a wrong password
// and an unknown name get the same answer, and that sources are throttled.
func TestSignInAnswersAlike(t *testing.T) {
	f, dir := newDirFixture(t, server.Limit{Rate: 0.001, Burst: identity.MaxFailures + 2})
	ctx := context.Background()
	p, err := dir.CreatePrincipal(ctx, "dba-ann", identity.KindPerson, []identity.Role{identity.RoleDBA})
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.SetPassword(ctx, p.ID, strongPassword); err != nil {
		t.Fatal(err)
	}
	e, _ := dir.BeginTOTP(ctx, p.ID)
	if _, err := dir.ConfirmTOTP(ctx, p.ID, totpCode(t, e.Secret)); err != nil {
		t.Fatal(err)
	}
	var answers []string
	try := func(name, pw string) int {
		code, body := f.do("", "POST", "/v1/sessions", map[string]any{"name": name, "password": pw, "code": "123456"})
		if body["code"] == nil {
			t.Fatalf("sign-in answered %d without a problem document", code)
		}
		delete(body, "request_id") // differs on every request by design
		b, _ := json.Marshal(body)
		answers = append(answers, strconv.Itoa(code)+" "+string(b))
		return code
	}
	for range identity.MaxFailures {
		if code := try("dba-ann", "a wrong password"); code != 401 {
			t.Fatalf("wrong password: %d", code)
		}
	}
	if st, _ := dir.Credentials(ctx, p.ID); st.LockedUntil.IsZero() {
		t.Fatal("not locked")
	}
	try("dba-ann", strongPassword)
	try("nobody-at-all", strongPassword)
	for _, a := range answers {
		if a != answers[0] {
			t.Fatalf("answers differ: %q and %q", answers[0], a)
		}
	}
	if code := try("nobody-at-all", strongPassword); code != 429 {
		t.Fatalf("not throttled: %d", code)
	}
}

func TestNoServiceKeys(t *testing.T) {
	ctx := context.Background()
	dir, err := identity.Open(ctx, sqldbtest.Engines()[0].Open(t).DB)
	if err != nil {
		t.Fatal(err)
	}
	boot, _, _ := dir.EnsureBootstrap(ctx)
	svc, _ := dir.CreatePrincipal(ctx, "shop", identity.KindService, []identity.Role{identity.RoleAppService})
	dev, _ := dir.CreatePrincipal(ctx, "dev", identity.KindPerson, []identity.Role{identity.RoleDeveloper})
	svcKey, _, _ := dir.CreateKey(ctx, svc.ID, 0)
	devKey, _, _ := dir.CreateKey(ctx, dev.ID, 0)

	for _, tc := range []struct {
		off      bool
		key      string
		accepted bool
	}{
		{false, svcKey.Reveal(), true},
		{true, svcKey.Reveal(), false},
		{true, devKey.Reveal(), true},
		{true, boot.Reveal(), true},
	} {
		a := server.Directory{Dir: dir, NoServiceKeys: tc.off}
		if _, err := a.AuthenticateKey(ctx, tc.key); (err == nil) != tc.accepted {
			t.Errorf("service keys off=%v, key %s…: %v", tc.off, tc.key[:16], err)
		}
	}
}

// TestSessionCarriesMFA checks that a dba reads PII masked with its API
// key and in clear from a session, and that people without a session may
// not change an existing credential.
func TestSessionCarriesMFA(t *testing.T) {
	f, dir := newDirFixture(t, server.Limit{})
	ctx := context.Background()
	p, _ := dir.CreatePrincipal(ctx, "dba-bo", identity.KindPerson, []identity.Role{identity.RoleDBA})
	key, _, _ := dir.CreateKey(ctx, p.ID, 0)
	if code, _ := f.do(key.Reveal(), "POST", "/v1/principals/"+p.ID+"/password",
		map[string]any{"password": strongPassword}); code != 204 {
		t.Fatalf("first password with own key: %d", code)
	}
	if code, _ := f.do(key.Reveal(), "POST", "/v1/principals/"+p.ID+"/password",
		map[string]any{"password": "another strong passphrase"}); code != 403 {
		t.Fatalf("password changed without a session: %d", code)
	}
	e, _ := dir.BeginTOTP(ctx, p.ID)
	codes, err := dir.ConfirmTOTP(ctx, p.ID, totpCode(t, e.Secret))
	if err != nil {
		t.Fatal(err)
	}
	_, s := f.do("", "POST", "/v1/sessions", map[string]any{"name": "dba-bo", "password": strongPassword,
		"code": codes[0]})
	session := s["token"].(string)

	_, c := f.do("app", "POST", "/v1/customers", ada)
	id := c["id"].(string)
	if code, v := f.do(key.Reveal(), "GET", "/v1/customers/"+id, nil); code != 200 || v["masked"] != true {
		t.Fatalf("dba with a key: %d %v", code, v)
	}
	if code, v := f.do(session, "GET", "/v1/customers/"+id, nil); code != 200 || v["masked"] != false ||
		v["email"] != "ada@example.com" {
		t.Fatalf("dba with a session: %d %v", code, v)
	}
	if code, _ := f.do(session, "GET", "/v1/customers/"+id+"/export", nil); code != 200 {
		t.Fatalf("export with MFA: %d", code)
	}
	if code, _ := f.do(session, "POST", "/v1/principals/"+p.ID+"/password",
		map[string]any{"password": "another strong passphrase"}); code != 204 {
		t.Fatalf("password change from a session: %d", code)
	}
	// A new password ends the session it was changed from.
	if code, _ := f.do(session, "GET", "/v1/customers/"+id, nil); code != 401 {
		t.Fatalf("session after a password change: %d", code)
	}
}
