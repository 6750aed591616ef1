package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/store"
	"github.com/securecart/securecart/internal/tlsca"
)

// Principal is the authenticated caller of a request.
type Principal struct {
	ID    string
	Name  string
	Kind  string // policy.KindPerson, KindService or KindCustomer
	Roles []string
	// MFA is true for a person who signed in with a password and a second
	// factor, and so calls with a session token.
	MFA bool
}

// ErrUnauthenticated is what an Authenticator returns for any credential
// it does not accept.
var ErrUnauthenticated = errors.New("server: unauthenticated")

// Authenticator turns credentials into a principal.
type Authenticator interface {
	// AuthenticateKey checks an API key sent as "Authorization: Bearer".
	AuthenticateKey(ctx context.Context, key string) (Principal, error)
	// AuthenticateCert maps a client certificate that the TLS layer
	// verified against the local CA to a service principal.
	AuthenticateCert(ctx context.Context, cert *x509.Certificate) (Principal, error)
}

// Deps are what the API is built from.
type Deps struct {
	Store *store.Store
	// Audit records every request; without it nothing is recorded, which
	// only tests do: the shipped program always has one.
	Audit Auditor
	// AuditReader serves GET /v1/audit; without it that answers 503.
	AuditReader AuditQuerier
	// Policy decides every request: an engine, or the live holder of
	// Policies that follows the active version.
	Policy   policy.Decider
	Identity Authenticator
	// Directory serves the principals API; without it those operations
	// answer 503.
	Directory *identity.Directory
	// Policies serves the policies API and the access analysis; without
	// it those operations answer 503.
	Policies *versions.Store
	// Networks names address ranges that policies can test, such as
	// "application" for the storefront's servers.
	Networks map[string][]netip.Prefix
	// Limits are the rate limits by role; a principal gets the most
	// generous of its roles'. Roles without one are not limited.
	Limits map[string]Limit
	Logger *slog.Logger
	// Logs holds the recent, already redacted log lines GET /v1/logs serves.
	Logs *logging.Ring
	// Payments is the card vault; without it the payment operations
	// answer 503.
	Payments *payments.Vault
	// Metrics, if set, counts requests, decisions and refusals, and is
	// served at /metrics.
	Metrics *metrics.Metrics
	// CA issues services' client certificates; without it that operation
	// answers 503.
	CA *tlsca.CA
	// Backups serves the backup status and record restores; without it
	// those operations answer 503.
	Backups Backups
	// Keys serves the keys API; without it those operations answer 503.
	Keys KeyAdmin
	// SignInLimit throttles sign-in attempts per source address (default
	// DefaultSignInLimit).
	SignInLimit Limit
	Now         func() time.Time
}

// API is the HTTP handler of SecureCart's API.
type API struct {
	d       Deps
	mux     *http.ServeMux
	limiter *RateLimiter
	// signInLimiter throttles sign-in by source address.
	signInLimiter *RateLimiter
	// outcomes are outcome records on their way to the audit trail.
	outcomes sync.WaitGroup
}

// New builds the API.
func New(d Deps) *API {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	a := &API{d: d, mux: http.NewServeMux(), limiter: NewRateLimiter(d.Now),
		signInLimiter: NewRateLimiter(d.Now)}
	a.routes()
	return a
}

// ServeHTTP adds the security headers every response carries and routes.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Strict-Transport-Security"] = hstsValue
	h["X-Content-Type-Options"] = nosniffValue
	h["Cache-Control"] = noStoreValue
	a.mux.ServeHTTP(w, r)
}

// The values of the headers every answer carries, shared by all answers
// rather than allocated for each. A header is only ever replaced (Set),
// never changed in place, and a slice of one value is full, so appending
// to it (Add) copies it first.
var (
	hstsValue    = []string{"max-age=63072000; includeSubDomains"}
	nosniffValue = []string{"nosniff"}
	noStoreValue = []string{"no-store"}
	jsonValue    = []string{"application/json"}
)

// call is one authenticated request on its way through the handlers.
type call struct {
	w         http.ResponseWriter
	r         *http.Request
	ctx       context.Context
	principal Principal
	requestID string
	source    netip.Addr
	networks  []string
	mtls      bool
	mtlsID    string
	trail     trail
	answered  bool
	// sw is w's status recorder, kept here to save an allocation.
	sw statusWriter
}

// handler is an API handler behind authentication and rate limiting.
type handler func(c *call)

// authed wraps h with request id, authentication, the rate limit and
// request metrics.
func (a *API) authed(h handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := a.d.Now()
		c := &call{r: r, requestID: newRequestID()}
		sw := &c.sw
		sw.ResponseWriter, sw.code = w, http.StatusOK
		c.w = sw
		c.ctx = logging.WithRequestID(r.Context(), c.requestID)
		sw.Header().Set("X-Request-Id", c.requestID)
		c.source = remoteAddr(r)
		c.networks = a.networksOf(c.source)
		defer func() {
			a.recordOutcome(c, sw.code)
			if a.d.Metrics != nil {
				a.d.Metrics.ObserveRequest(routeOf(r), r.Method, sw.code, a.d.Now().Sub(start))
			}
		}()

		p, err := a.authenticate(c)
		if err != nil {
			c.problem(ProblemUnauthenticated)
			return
		}
		c.principal = p
		if isBootstrap(p) && !bootstrapAllowed(r) {
			// The bootstrap key enrols the first admin and does nothing
			// else.
			c.problem(ProblemForbidden.With("the bootstrap key only enrols an admin", ""))
			return
		}
		if ok, wait := a.limiter.Allow(p.ID, a.limitFor(p)); !ok {
			if a.d.Metrics != nil && len(p.Roles) > 0 {
				a.d.Metrics.RateLimited(p.Roles[0])
			}
			pr := ProblemRateLimited
			pr.RetryAfter = RetryAfterSeconds(wait)
			c.problem(pr)
			return
		}
		h(c)
	}
}

// statusWriter remembers the status code for the metrics.
type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// routeOf is the request's route template without its method, such as
// "/v1/customers/{id}": never a raw path, so metric labels stay bounded.
func routeOf(r *http.Request) string {
	if _, path, ok := strings.Cut(r.Pattern, " "); ok {
		return path
	}
	return r.Pattern
}

func (a *API) authenticate(c *call) (Principal, error) {
	if tls := c.r.TLS; tls != nil && len(tls.VerifiedChains) > 0 {
		cert := tls.VerifiedChains[0][0]
		c.mtls, c.mtlsID = true, cert.Subject.CommonName
	}
	if auth := c.r.Header.Get("Authorization"); auth != "" {
		key, ok := strings.CutPrefix(auth, "Bearer ")
		if !ok || len(key) > 256 {
			return Principal{}, ErrUnauthenticated
		}
		return a.d.Identity.AuthenticateKey(c.ctx, key)
	}
	if c.mtls {
		return a.d.Identity.AuthenticateCert(c.ctx, c.r.TLS.VerifiedChains[0][0])
	}
	return Principal{}, ErrUnauthenticated
}

func (a *API) limitFor(p Principal) Limit {
	if p.Kind == policy.KindCustomer {
		// All of one customer's tokens share its bucket.
		if l, ok := a.d.Limits[policy.KindCustomer]; ok {
			return l
		}
		return DefaultCustomerLimit
	}
	var best Limit
	for _, role := range p.Roles {
		if l, ok := a.d.Limits[role]; ok && l.Rate > best.Rate {
			best = l
		}
	}
	return best
}

func (a *API) networksOf(addr netip.Addr) []string {
	var out []string
	for name, prefixes := range a.d.Networks {
		for _, p := range prefixes {
			if p.Contains(addr) {
				out = append(out, name)
				break
			}
		}
	}
	return out
}

func remoteAddr(r *http.Request) netip.Addr {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	addr, err := netip.ParseAddr(host)
	if err != nil {
		return netip.Addr{}
	}
	return addr.Unmap()
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return "req_" + hex.EncodeToString(b[:])
}

// resource is what a decision is about.
type resource struct {
	typ, id, owner string
}

// allowed asks the policy engine; a denial is answered 403 (or 404 when
// the caller must not learn that the resource exists).
func (a *API) allowed(c *call, action string, res resource) bool {
	d := a.decide(c, action, res)
	if c.trail.failed {
		return false
	}
	if !d.Allow {
		a.d.Logger.Info("denied", "request_id", c.requestID, "principal", c.principal.ID,
			"action", action, "policies", d.Policies)
	}
	return d.Allow
}

// clearPII reports whether the caller may see res's PII in clear. A no
// here masks the answer and refuses nothing, so it is not logged as a
// denial.
func (a *API) clearPII(c *call, res resource) bool {
	ok := a.decide(c, policy.ReadPII, res).Allow
	if ok {
		c.inClear(customerFields...)
	}
	return ok
}

// clearNotes is clearPII for an order view, whose PII is its notes.
func (a *API) clearNotes(c *call, res resource) bool {
	ok := a.decide(c, policy.ReadPII, res).Allow
	if ok {
		c.inClear(noteFields...)
	}
	return ok
}

// decide asks the policy engine about one action of the call's principal
// and counts the decision.
func (a *API) decide(c *call, action string, res resource) policy.Decision {
	d := a.d.Policy.Decide(policy.Request{
		PrincipalID:    c.principal.ID,
		PrincipalKind:  c.principal.Kind,
		Roles:          c.principal.Roles,
		Action:         action,
		ResourceType:   res.typ,
		ResourceID:     res.id,
		Owner:          res.owner,
		Classification: policy.Classification(res.typ),
		Source:         c.source,
		Networks:       c.networks,
		MFA:            c.principal.MFA,
		MTLS:           c.mtls,
		MTLSIdentity:   c.mtlsID,
		Time:           a.d.Now(),
	})
	if a.d.Metrics != nil {
		a.d.Metrics.AuthzDecision(d.Allow)
	}
	if !a.recordRequest(c, action, res, d) {
		return policy.Decision{}
	}
	return d
}

func (c *call) problem(p Problem) {
	if c.answered {
		return
	}
	c.answered = true
	if c.principal.Kind == policy.KindCustomer && p.Status == http.StatusForbidden {
		// A customer learns nothing about what it may not reach, not even
		// that it exists.
		p = ProblemNotFound
	}
	p.RequestID = c.requestID
	c.trail.errCode = p.Code
	WriteProblem(c.w, p)
}

func (c *call) json(status int, v any) {
	if c.answered {
		return
	}
	c.answered = true
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer putJSONBuf(buf)
	buf.Reset()
	if err := json.NewEncoder(buf).Encode(v); err != nil {
		c.answered = false
		c.problem(ProblemInternal)
		return
	}
	h := c.w.Header()
	h["Content-Type"] = jsonValue
	h["Content-Length"] = []string{strconv.Itoa(buf.Len())}
	c.w.WriteHeader(status)
	c.w.Write(buf.Bytes())
}

// jsonBufs hold answers while they are encoded, so that the answer's
// length is known before its header is sent and a buffer is not allocated
// for each request.
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSON bounds the buffers kept: one large answer (a long page or
// an export) should not stay in memory.
const maxPooledJSON = 64 << 10

func putJSONBuf(b *bytes.Buffer) {
	// The answer may hold PII in clear: it does not outlive its request.
	clear(b.Bytes())
	if b.Cap() <= maxPooledJSON {
		jsonBufs.Put(b)
	}
}

// storeProblem maps a store error to the problem to send. Unexpected
// errors become a bare 500 and are logged by kind only.
func (a *API) storeProblem(c *call, err error) {
	var inv *store.InvalidError
	var card *payments.InvalidError
	switch {
	case errors.As(err, &inv):
		c.problem(ProblemInvalid.With(inv.Reason, inv.Field))
	case errors.As(err, &card):
		// Refused card data: the field and the rule, never the value.
		p := ProblemInvalid.With(card.Reason, card.Field)
		p.Code, p.Title = card.Code, "The card data was refused"
		c.problem(p)
	case errors.Is(err, store.ErrNotFound):
		c.problem(ProblemNotFound)
	case errors.Is(err, store.ErrConflict):
		c.problem(ProblemConflict)
	case errors.Is(err, store.ErrDuplicate):
		c.problem(ProblemDuplicate)
	case errors.Is(err, store.ErrInsufficientStock):
		c.problem(ProblemConflict.With("not enough stock", "lines"))
	case errors.Is(err, store.ErrInvalidTransition):
		c.problem(ProblemConflict.With("that status change is not allowed", "status"))
	case errors.Is(err, context.Canceled):
		c.problem(ProblemUnavailable)
	default:
		a.d.Logger.Error("request failed", "request_id", c.requestID, "err", err)
		c.problem(ProblemInternal)
	}
}
