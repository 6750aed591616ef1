package identity

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/sqldbtest"
)

const testPassword = "violet-harbour-lantern-47"

// person is an enrolled person: password and confirmed TOTP.
type person struct {
	p        *Principal
	secret   string
	recovery []string
}

func enrol(t *testing.T, d *Directory, clk *fakeClock, name string, roles ...Role) person {
	t.Helper()
	ctx := context.Background()
	p := mustPrincipal(t, d, name, KindPerson, roles...)
	if err := d.SetPassword(ctx, p.ID, testPassword); err != nil {
		t.Fatal(err)
	}
	e, err := d.BeginTOTP(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := d.ConfirmTOTP(ctx, p.ID, code(t, e.Secret, clk))
	if err != nil {
		t.Fatal(err)
	}
	// The confirming code's step is spent; sign-ins use later ones.
	clk.Advance(totpPeriod)
	return person{p: p, secret: e.Secret, recovery: codes}
}

func code(t *testing.T, secret string, clk *fakeClock) string {
	t.Helper()
	c, err := totp.GenerateCode(secret, clk.Now())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCheckPassword(t *testing.T) {
	for _, tc := range []struct {
		pw string
		ok bool
	}{
		{testPassword, true},
		{"short-one", false},
		{"Password2024!", false},
		{"QWERTYUIOPASDF", false},
		{"iloveyou1234", false},
		{"aaaaaaaaaaaaaaaa", false},
		{"grace-likes-tea-7", false}, // contains the name
		{"tea kettle on the windowsill", true},
		{strings.Repeat("x", MaxPasswordLen) + "y", false},
	} {
		if err := CheckPassword("grace", tc.pw); (err == nil) != tc.ok {
			t.Errorf("CheckPassword(%q) = %v, want ok %v", tc.pw, err, tc.ok)
		} else if err != nil && strings.Contains(err.Error(), tc.pw) {
			t.Errorf("error repeats the password: %v", err)
		}
	}
	if n := len(commonPasswords()); n < 2000 {
		t.Fatalf("%d common passwords bundled", n)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword(testPassword, testArgon)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(h, testPassword) {
		t.Fatalf("stored form %q", h)
	}
	if !verifyPassword(testPassword, h) || verifyPassword(testPassword+"x", h) {
		t.Fatal("verification is wrong")
	}
	for _, bad := range []string{
		strings.Replace(h, "argon2id", "argon2i", 1),
		strings.Replace(h, "v=19", "v=16", 1),
		strings.Replace(h, "t=1", "t=01", 1),
		strings.Replace(h, "m=64", "m=999999999", 1),
		strings.Replace(h, "p=1", "p=0", 1),
		h + "$",
		h[:len(h)-2],
		"",
	} {
		if verifyPassword(testPassword, bad) {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParsePasswordHash(f *testing.F) {
	h, _ := hashPassword(testPassword, testArgon)
	f.Add(h)
	f.Add("$argon2id$v=19$m=65536,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	f.Fuzz(func(t *testing.T, s string) {
		p, salt, sum, ok := parsePasswordHash(s)
		if !ok {
			return
		}
		// What parses is exactly what hashPassword writes.
		re := "$argon2id$v=19$m=" + itoa(p.MemoryKiB) + ",t=" + itoa(p.Time) + ",p=" + itoa(uint32(p.Threads)) +
			"$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(sum)
		if re != s {
			t.Fatalf("parsed %q, encodes as %q", s, re)
		}
	})
}

func itoa(v uint32) string {
	if v == 0 {
		return "0"
	}
	var b []byte
	for ; v > 0; v /= 10 {
		b = append([]byte{byte('0' + v%10)}, b...)
	}
	return string(b)
}

func TestSignInLockout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		ada := enrol(t, d, clk, "ada", RoleDBA)

		for i := range MaxFailures {
			_, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: "wrong-password-" + itoa(uint32(i)),
				Code: code(t, ada.secret, clk)})
			if !errors.Is(err, ErrUnauthenticated) {
				t.Fatalf("attempt %d: %v", i+1, err)
			}
		}
		// The eleventh attempt, with everything right, is refused, and
		// looks like any other refusal.
		clk.Advance(totpPeriod)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword,
			Code: code(t, ada.secret, clk)}); err != ErrUnauthenticated {
			t.Fatalf("11th attempt: %v", err)
		}
		st, _ := d.Credentials(ctx, ada.p.ID)
		if st.LockedUntil.IsZero() {
			t.Fatal("not reported locked")
		}
		clk.Advance(LockoutFor - 2*totpPeriod)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword,
			Code: code(t, ada.secret, clk)}); err != ErrUnauthenticated {
			t.Fatalf("still locked: %v", err)
		}
		clk.Advance(2 * totpPeriod)
		tok, s, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword, Code: code(t, ada.secret, clk)})
		if err != nil || s.PrincipalID != ada.p.ID {
			t.Fatalf("after %v: %v", LockoutFor, err)
		}
		if p, err := d.AuthenticateSession(ctx, tok.Reveal()); err != nil || p.ID != ada.p.ID {
			t.Fatalf("session: %v, %v", p, err)
		}
		if st, _ := d.Credentials(ctx, ada.p.ID); !st.LockedUntil.IsZero() {
			t.Fatal("still reported locked")
		}
	})
}

func TestSignInRefusals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		ada := enrol(t, d, clk, "ada", RoleDBA)
		svc := mustPrincipal(t, d, "svc", KindService, RoleAppService)
		noTOTP := mustPrincipal(t, d, "bob", KindPerson, RoleDeveloper)
		if err := d.SetPassword(ctx, noTOTP.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		if err := d.SetPassword(ctx, svc.ID, testPassword); err == nil {
			t.Fatal("a service got a password")
		}

		good := code(t, ada.secret, clk)
		for _, in := range []SignIn{
			{Name: "nobody", Password: testPassword, Code: good},
			{Name: "svc", Password: testPassword, Code: good},
			{Name: "bob", Password: testPassword, Code: good},
			{Name: "ada", Password: testPassword, Code: "000000"},
			{Name: "ada", Password: testPassword, Code: ""},
			{Name: "ada", Password: testPassword, Code: "aaaa-bbbb-cccc-dddd"},
			{Name: "ada", Password: strings.Repeat("p", MaxPasswordLen+1), Code: good},
		} {
			if _, _, err := d.SignIn(ctx, in); err != ErrUnauthenticated {
				t.Errorf("%s with code %q: %v", in.Name, in.Code, err)
			}
		}

		// A code signs in once; the same code again within its window is
		// a replay.
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword, Code: good}); err != nil {
			t.Fatal(err)
		}
		clk.Advance(time.Second)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword, Code: good}); err != ErrUnauthenticated {
			t.Fatalf("replayed code: %v", err)
		}

		// A recovery code works once, in either case and without dashes.
		rc := strings.ToUpper(strings.ReplaceAll(ada.recovery[3], "-", ""))
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword, Code: rc}); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword, Code: ada.recovery[3]}); err != ErrUnauthenticated {
			t.Fatalf("recovery code reused: %v", err)
		}

		if err := d.DisablePrincipal(ctx, ada.p.ID); err != nil {
			t.Fatal(err)
		}
		clk.Advance(totpPeriod)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword,
			Code: code(t, ada.secret, clk)}); err != ErrUnauthenticated {
			t.Fatalf("disabled: %v", err)
		}
	})
}

func TestSessionLifetime(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		ada := enrol(t, d, clk, "ada", RoleDBA)
		signIn := func() string {
			t.Helper()
			clk.Advance(totpPeriod)
			tok, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword, Code: code(t, ada.secret, clk)})
			if err != nil {
				t.Fatal(err)
			}
			return tok.Reveal()
		}
		live := func(tok string) bool {
			_, err := d.AuthenticateSession(ctx, tok)
			if err != nil && err != ErrUnauthenticated {
				t.Fatal(err)
			}
			return err == nil
		}

		idle := signIn()
		clk.Advance(SessionIdle - time.Second)
		if !live(idle) {
			t.Fatal("ended before the idle timeout")
		}
		clk.Advance(SessionIdle - time.Second)
		if !live(idle) {
			t.Fatal("use did not extend the session")
		}
		clk.Advance(SessionIdle)
		if live(idle) {
			t.Fatal("idle session still works")
		}

		busy := signIn()
		for elapsed := time.Duration(0); elapsed < SessionMax-10*time.Minute; elapsed += 10 * time.Minute {
			clk.Advance(10 * time.Minute)
			if !live(busy) {
				t.Fatalf("busy session ended after %v", elapsed)
			}
		}
		clk.Advance(10 * time.Minute)
		if live(busy) {
			t.Fatal("session outlived its absolute lifetime")
		}

		out := signIn()
		other := signIn()
		if err := d.EndSession(ctx, out); err != nil {
			t.Fatal(err)
		}
		if live(out) || !live(other) {
			t.Fatal("sign-out ended the wrong session")
		}
		if err := d.EndSession(ctx, out); !errors.Is(err, ErrNotFound) {
			t.Fatalf("second sign-out: %v", err)
		}
		if n, err := d.EndSessions(ctx, ada.p.ID); err != nil || n < 1 || live(other) {
			t.Fatalf("revoking all: %d, %v", n, err)
		}
		again := signIn()
		if err := d.SetPassword(ctx, ada.p.ID, "another long passphrase"); err != nil || live(again) {
			t.Fatalf("a new password left the session live: %v", err)
		}
		for _, bad := range []string{"", "scs_", again + "x", strings.Replace(again, "scs_", "sct_", 1)} {
			if live(bad) {
				t.Errorf("accepted %q", bad)
			}
		}
	})
}

func TestEnrolmentRevokesBootstrap(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		boot, ok, err := d.EnsureBootstrap(ctx)
		if err != nil || !ok {
			t.Fatal(err)
		}
		// A person without the admin role changes nothing.
		enrol(t, d, clk, "dev", RoleDeveloper)
		if _, err := d.Authenticate(ctx, boot.Reveal()); err != nil {
			t.Fatalf("bootstrap key revoked by a developer's enrolment: %v", err)
		}
		p := mustPrincipal(t, d, "root", KindPerson, RoleAdmin)
		if err := d.SetPassword(ctx, p.ID, testPassword); err != nil {
			t.Fatal(err)
		}
		e, err := d.BeginTOTP(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.ConfirmTOTP(ctx, p.ID, "123456x"); err == nil {
			t.Fatal("confirmed with a bad code")
		}
		if _, err := d.Authenticate(ctx, boot.Reveal()); err != nil {
			t.Fatal("revoked before enrolment completed")
		}
		codes, err := d.ConfirmTOTP(ctx, p.ID, code(t, e.Secret, clk))
		if err != nil || len(codes) != recoveryCodes {
			t.Fatalf("confirm: %v, %d codes", err, len(codes))
		}
		if _, err := d.Authenticate(ctx, boot.Reveal()); err != ErrUnauthenticated {
			t.Fatalf("bootstrap key after the first admin enrolled: %v", err)
		}
		if st, _ := d.Credentials(ctx, p.ID); !st.Password || !st.TOTP || st.Pending {
			t.Fatalf("state %+v", st)
		}
	})
}

func TestRecoverWhileEveryAdminIsLocked(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		if _, _, err := d.EnsureBootstrap(ctx); err != nil {
			t.Fatal(err)
		}
		admins := []person{enrol(t, d, clk, "root-a", RoleAdmin), enrol(t, d, clk, "root-b", RoleAdmin)}
		for _, a := range admins {
			for range MaxFailures {
				d.SignIn(ctx, SignIn{Name: a.p.Name, Password: "not the password", Code: "000000"})
			}
			clk.Advance(totpPeriod)
			if _, _, err := d.SignIn(ctx, SignIn{Name: a.p.Name, Password: testPassword,
				Code: code(t, a.secret, clk)}); err != ErrUnauthenticated {
				t.Fatalf("%s not locked: %v", a.p.Name, err)
			}
		}

		r, err := d.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(r.Unlocked, ",") != "root-a,root-b" {
			t.Fatalf("unlocked %v", r.Unlocked)
		}
		clk.Advance(totpPeriod)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "root-a", Password: testPassword,
			Code: code(t, admins[0].secret, clk)}); err != nil {
			t.Fatalf("sign-in after recovery: %v", err)
		}
		p, err := d.Authenticate(ctx, r.Key.Reveal())
		if err != nil || !IsBootstrap(p) {
			t.Fatalf("recovery key: %v, %v", p, err)
		}
		clk.Advance(RecoveryKeyTTL)
		if _, err := d.Authenticate(ctx, r.Key.Reveal()); err != ErrUnauthenticated {
			t.Fatalf("recovery key outlived its hour: %v", err)
		}
	})
}

func TestRecoverWithoutBootstrap(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, _ := openDir(t, h)
		r, err := d.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.DisablePrincipal(ctx, r.Bootstrap); err != nil {
			t.Fatal(err)
		}
		r2, err := d.Recover(ctx)
		if err != nil || r2.Bootstrap != r.Bootstrap {
			t.Fatalf("second recovery: %v", err)
		}
		if p, err := d.Authenticate(ctx, r2.Key.Reveal()); err != nil || !IsBootstrap(p) {
			t.Fatalf("key of a re-enabled bootstrap principal: %v", err)
		}
	})
}

func TestCustomerToken(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		tok, exp, err := d.IssueCustomerToken(ctx, "cus_a", "prn_app")
		if err != nil || !exp.Equal(clk.Now().Add(CustomerTokenTTL)) {
			t.Fatalf("issue: %v %v", exp, err)
		}
		if s := tok.String(); s != "sct_…" {
			t.Fatalf("prints as %q", s)
		}
		if id, err := d.AuthenticateCustomer(ctx, tok.Reveal()); err != nil || id != "cus_a" {
			t.Fatalf("authenticate: %q %v", id, err)
		}
		if _, err := d.AuthenticateSession(ctx, tok.Reveal()); err != ErrUnauthenticated {
			t.Fatal("a customer token opened a session")
		}
		clk.Advance(CustomerTokenTTL)
		if _, err := d.AuthenticateCustomer(ctx, tok.Reveal()); err != ErrUnauthenticated {
			t.Fatalf("expired token: %v", err)
		}
	})
}

func TestTokenNeverPrints(t *testing.T) {
	tok, _, err := newToken(SessionPrefix)
	if err != nil {
		t.Fatal(err)
	}
	full := tok.Reveal()
	for _, s := range []string{fmt.Sprint(tok), fmt.Sprintf("%v %+v %#v %s %q", tok, tok, tok, tok, tok),
		fmt.Sprintf("%v", struct{ T Token }{tok})} {
		if strings.Contains(s, full[4:]) {
			t.Fatalf("printed the secret: %s", s)
		}
	}
	if _, err := json.Marshal(tok); err == nil {
		t.Fatal("marshalled")
	}
	if _, ok := tokenHash(SessionPrefix, full); !ok {
		t.Fatal("own token refused")
	}
	for _, bad := range []string{full[:len(full)-1], full + "A", strings.Replace(full, "scs_", "sct_", 1),
		full[:len(full)-1] + "\n", ""} {
		if _, ok := tokenHash(SessionPrefix, bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
}

func TestExpiredSessionsAreDropped(t *testing.T) {
	forEachEngine(t, func(t *testing.T, h *sqldbtest.Handle) {
		ctx := context.Background()
		d, clk := openDir(t, h)
		ada := enrol(t, d, clk, "ada", RoleDBA)
		count := func() (n int64) {
			t.Helper()
			if err := h.Read(ctx, func(tx sqldb.Tx) error {
				return tx.QueryRow(ctx, "SELECT COUNT(*) FROM identity_sessions").Scan(&n)
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		for range 3 {
			clk.Advance(totpPeriod)
			if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword,
				Code: code(t, ada.secret, clk)}); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(SessionMax + 25*time.Hour)
		if _, _, err := d.SignIn(ctx, SignIn{Name: "ada", Password: testPassword,
			Code: code(t, ada.secret, clk)}); err != nil {
			t.Fatal(err)
		}
		if n := count(); n != 1 {
			t.Fatalf("%d sessions stored, want only the live one", n)
		}
	})
}
