package server

import (
	"errors"
	"net/http"
	"time"

	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/policy"
)

// The principals API: admins create people and services, give them keys,
// revoke keys and disable principals. A new key is in the response once and
// never again.

type createPrincipalIn struct {
	Name       string   `json:"name"`
	Kind       string   `json:"kind"`
	Roles      []string `json:"roles"`
	KeyTTLDays int      `json:"key_ttl_days"`
}

type keyIn struct {
	KeyTTLDays int `json:"key_ttl_days"`
}

// KeyView is an API key's metadata.
type KeyView struct {
	ID         string     `json:"id"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at,omitempty"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty"`
}

// PrincipalView is a principal with its keys' metadata.
type PrincipalView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Kind       string     `json:"kind"`
	Roles      []string   `json:"roles"`
	CreatedAt  time.Time  `json:"created_at"`
	DisabledAt *time.Time `json:"disabled_at,omitempty"`
	Keys       []KeyView  `json:"keys"`
	// APIKey is set only in the response that created the key.
	APIKey string `json:"api_key,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func keyView(k identity.KeyInfo) KeyView {
	return KeyView{ID: k.ID, Prefix: k.Prefix, CreatedAt: k.CreatedAt, ExpiresAt: optTime(k.ExpiresAt),
		RevokedAt: optTime(k.RevokedAt), LastUsedAt: optTime(k.LastUsedAt)}
}

func principalView(p *identity.Principal) PrincipalView {
	v := PrincipalView{ID: p.ID, Name: p.Name, Kind: string(p.Kind), CreatedAt: p.CreatedAt,
		DisabledAt: optTime(p.DisabledAt), Roles: []string{}, Keys: []KeyView{}}
	for _, r := range p.Roles {
		v.Roles = append(v.Roles, string(r))
	}
	for _, k := range p.Keys {
		v.Keys = append(v.Keys, keyView(k))
	}
	return v
}

var principalsRes = resource{typ: policy.TypeCollection, id: "principals"}

// admin authorizes managing principals and checks the directory is there.
func (a *API) admin(c *call) bool {
	if a.d.Directory == nil {
		c.problem(ProblemUnavailable)
		return false
	}
	if !a.allowed(c, policy.ManagePrincipals, principalsRes) {
		c.problem(ProblemForbidden)
		return false
	}
	return true
}

// decodeAdmin decodes a body that carries a key lifetime in days,
// checks it and authorizes the caller. It returns the raw body too, the
// request an Idempotency-Key is checked against.
func (a *API) decodeAdmin(c *call, in any, days *int) ([]byte, time.Duration, bool) {
	body, p, ok := decodeBody(c.r, in)
	if !ok {
		c.problem(p)
		return nil, 0, false
	}
	if *days < 0 || *days > 3650 {
		c.problem(ProblemInvalid.With("between 0 (no expiry) and 3650", "key_ttl_days"))
		return nil, 0, false
	}
	if !a.admin(c) {
		return nil, 0, false
	}
	return body, time.Duration(*days) * 24 * time.Hour, true
}

func (a *API) identityProblem(c *call, err error) {
	var inv *identity.InvalidError
	switch {
	case errors.As(err, &inv):
		c.problem(ProblemInvalid.With(inv.Reason, inv.Field))
	case errors.Is(err, identity.ErrNotFound):
		c.problem(ProblemNotFound)
	case errors.Is(err, identity.ErrExists):
		c.problem(ProblemDuplicate)
	default:
		a.storeProblem(c, err)
	}
}

func (a *API) createPrincipal(c *call) {
	var in createPrincipalIn
	body, ttl, ok := a.decodeAdmin(c, &in, &in.KeyTTLDays)
	if !ok {
		return
	}
	roles := make([]identity.Role, len(in.Roles))
	for i, r := range in.Roles {
		roles[i] = identity.Role(r)
	}
	if isBootstrap(c.principal) && (in.Kind != string(identity.KindPerson) ||
		len(in.Roles) != 1 || in.Roles[0] != string(identity.RoleAdmin)) {
		c.problem(ProblemForbidden.With("the bootstrap key only creates admin people", "kind"))
		return
	}
	a.issueOnce(c, "principal", body, a.identityProblem, func() (string, any, error) {
		p, err := a.d.Directory.CreatePrincipal(c.ctx, in.Name, identity.Kind(in.Kind), roles)
		if err != nil {
			return "", nil, err
		}
		key, info, err := a.d.Directory.CreateKey(c.ctx, p.ID, ttl)
		if err != nil {
			return "", nil, err
		}
		v := principalView(p)
		v.Keys = append(v.Keys, keyView(*info))
		v.APIKey = key.Reveal()
		return p.ID, v, nil
	})
}

func (a *API) listPrincipals(c *call) {
	if !a.admin(c) {
		return
	}
	ps, err := a.d.Directory.ListPrincipals(c.ctx)
	if err != nil {
		a.identityProblem(c, err)
		return
	}
	out := Page[PrincipalView]{Items: []PrincipalView{}}
	for i := range ps {
		out.Items = append(out.Items, principalView(&ps[i]))
	}
	c.json(http.StatusOK, out)
}

func (a *API) createPrincipalKey(c *call) {
	var in keyIn
	body, ttl, ok := a.decodeAdmin(c, &in, &in.KeyTTLDays)
	if !ok {
		return
	}
	type created struct {
		KeyView
		APIKey string `json:"api_key"`
	}
	a.issueOnce(c, "api_key", body, a.identityProblem, func() (string, any, error) {
		key, info, err := a.d.Directory.CreateKey(c.ctx, c.r.PathValue("id"), ttl)
		if err != nil {
			return "", nil, err
		}
		return info.ID, created{keyView(*info), key.Reveal()}, nil
	})
}

func (a *API) revokeKey(c *call) {
	if !a.admin(c) {
		return
	}
	if err := a.d.Directory.RevokeKey(c.ctx, c.r.PathValue("id")); err != nil {
		a.identityProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}

func (a *API) disablePrincipal(c *call) {
	if !a.admin(c) {
		return
	}
	if err := a.d.Directory.DisablePrincipal(c.ctx, c.r.PathValue("id")); err != nil {
		a.identityProblem(c, err)
		return
	}
	c.w.WriteHeader(http.StatusNoContent)
}
