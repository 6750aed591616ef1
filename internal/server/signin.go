package server

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/policy"
)

// Sign-in for people: a password and a TOTP code (or a recovery code) open
// a session, whose token ("scs_…") is sent like an API key and
// authenticates its person with MFA in the policy context. Enrolment sets
// the password and the TOTP secret, either by the person (with the API key
// an admin gave them) or by an admin.

// DefaultSignInLimit throttles sign-in attempts per source address, on top
// of the lockout per account.
var DefaultSignInLimit = Limit{Rate: 10.0 / 60, Burst: 20}

type signInIn struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Code     string `json:"code"`
}

// SessionView is a new session, token included once.
type SessionView struct {
	Token       string    `json:"token"`
	PrincipalID string    `json:"principal_id"`
	ExpiresAt   time.Time `json:"expires_at"`
	IdleTimeout int       `json:"idle_timeout_seconds"`
}

// publicRoutes are served without authentication: signing in is how a
// person gets a credential.
var publicRoutes = map[string]bool{"POST /v1/sessions": true}

// public wraps h with a request id and the caller's address, and no
// authentication.
func (a *API) public(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c := &call{w: w, r: r, requestID: newRequestID()}
		c.ctx = logging.WithRequestID(r.Context(), c.requestID)
		w.Header().Set("X-Request-Id", c.requestID)
		c.source = remoteAddr(r)
		c.networks = a.networksOf(c.source)
		h(c)
	}
}

// signIn answers every refusal with the same 401, whatever was wrong, and
// throttles attempts per source address.
func (a *API) signIn(c *call) {
	if a.d.Directory == nil {
		c.problem(ProblemUnavailable)
		return
	}
	if ok, wait := a.signInLimiter.Allow("ip:"+c.source.String(), a.signInLimit()); !ok {
		p := ProblemRateLimited
		p.RetryAfter = RetryAfterSeconds(wait)
		c.problem(p)
		return
	}
	var in signInIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	tok, s, err := a.d.Directory.SignIn(c.ctx, identity.SignIn{Name: in.Name, Password: in.Password,
		Code: strings.TrimSpace(in.Code)})
	if errors.Is(err, identity.ErrUnauthenticated) {
		a.d.Logger.Info("sign-in refused", "request_id", c.requestID, "source", c.source.String())
		c.problem(ProblemUnauthenticated)
		return
	}
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusCreated, SessionView{Token: tok.Reveal(), PrincipalID: s.PrincipalID,
		ExpiresAt: s.ExpiresAt, IdleTimeout: int(identity.SessionIdle / time.Second)})
}

func (a *API) signInLimit() Limit {
	if a.d.SignInLimit.Rate > 0 {
		return a.d.SignInLimit
	}
	return DefaultSignInLimit
}

// signOut ends the session the request was made with.
func (a *API) signOut(c *call) {
	tok, _ := strings.CutPrefix(c.r.Header.Get("Authorization"), "Bearer ")
	if !strings.HasPrefix(tok, identity.SessionPrefix) || a.d.Directory == nil {
		// Only a session can be signed out of; an API key has none.
		c.problem(ProblemNotFound)
		return
	}
	if err := a.d.Directory.EndSession(c.ctx, tok); err != nil {
		a.identityProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// endSessions revokes every session of a principal (an admin's action).
func (a *API) endSessions(c *call) {
	if !a.admin(c) {
		return
	}
	id := c.r.PathValue("id")
	if _, err := a.d.Directory.GetPrincipal(c.ctx, id); err != nil {
		a.identityProblem(c, err)
		return
	}
	if _, err := a.d.Directory.EndSessions(c.ctx, id); err != nil {
		a.identityProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// mayEnrol authorizes a credential change of the principal in the path:
// an admin may make any; a person may make their own, and once the
// credential exists, only from a session (with MFA). It answers the
// refusal itself.
func (a *API) mayEnrol(c *call, exists func(identity.CredentialState) bool) (string, bool) {
	id := c.r.PathValue("id")
	if a.d.Directory == nil {
		c.problem(ProblemUnavailable)
		return "", false
	}
	if id != c.principal.ID {
		return id, a.admin(c)
	}
	st, err := a.d.Directory.Credentials(c.ctx, id)
	if err != nil {
		a.identityProblem(c, err)
		return "", false
	}
	if exists(st) && !c.principal.MFA {
		c.problem(ProblemForbidden.With("sign in to change an existing credential", ""))
		return "", false
	}
	return id, true
}

type passwordIn struct {
	Password string `json:"password"`
}

func (a *API) setPassword(c *call) {
	var in passwordIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	id, ok := a.mayEnrol(c, func(s identity.CredentialState) bool { return s.Password })
	if !ok {
		return
	}
	if err := a.d.Directory.SetPassword(c.ctx, id, in.Password); err != nil {
		a.identityProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

// TOTPView is a new TOTP secret, shown once.
type TOTPView struct {
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
}

func (a *API) beginTOTP(c *call) {
	id, ok := a.mayEnrol(c, func(s identity.CredentialState) bool { return s.TOTP })
	if !ok {
		return
	}
	a.issueOnce(c, "totp_enrollment", nil, a.identityProblem, func() (string, any, error) {
		e, err := a.d.Directory.BeginTOTP(c.ctx, id)
		if err != nil {
			return "", nil, err
		}
		return id, TOTPView{Secret: e.Secret, OTPAuthURL: e.URL}, nil
	})
}

type confirmTOTPIn struct {
	Code string `json:"code"`
}

// RecoveryCodesView holds a person's recovery codes, shown once.
type RecoveryCodesView struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (a *API) confirmTOTP(c *call) {
	var in confirmTOTPIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	id, ok := a.mayEnrol(c, func(s identity.CredentialState) bool { return s.TOTP })
	if !ok {
		return
	}
	codes, err := a.d.Directory.ConfirmTOTP(c.ctx, id, strings.TrimSpace(in.Code))
	if err != nil {
		a.identityProblem(c, err)
		return
	}
	c.json(http.StatusOK, RecoveryCodesView{RecoveryCodes: codes})
}

// bootstrapRoutes are all the bootstrap principal may call: enough to
// create the first admin person and enrol their password and TOTP.
var bootstrapRoutes = []string{
	"POST /v1/principals",
	"POST /v1/principals/{id}/password",
	"POST /v1/principals/{id}/totp",
	"POST /v1/principals/{id}/totp/confirm",
}

func isBootstrap(p Principal) bool {
	return p.Name == identity.BootstrapName && p.Kind == policy.KindService
}

// bootstrapAllowed reports whether the request is one the bootstrap
// principal may make.
func bootstrapAllowed(r *http.Request) bool {
	return slices.Contains(bootstrapRoutes, r.Pattern)
}
