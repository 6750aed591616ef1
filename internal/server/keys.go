package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/policy"
)

// The keys API
//
// GET /v1/keys describes every key-encryption key version: its domain,
// state, age and how many data keys and reserved seals it carries, never
// any key material. Rotating a domain, moving data keys onto its newest
// version (rewrap) and destroying a retired version are the manageKeys
// action, which the default policies grant to admins, people among them
// only with MFA. Each is one request, recorded in the audit trail like any
// other, with the key domain or version as its subject.
//
// A rewrap can take longer than one request should: it runs in batches,
// each committed on its own, and stops at the first batch boundary after
// rewrapBudget. The answer says how many data keys it moved, how many are
// left and whether the pass finished; the caller asks again until it did.
// Rewrapping the blind-index domain re-computes the customers' email
// tokens under the newest version, in the same bounded way.

// KeyAdmin is what the keys API needs of the key hierarchy.
// *keys.Keystore implements it.
type KeyAdmin interface {
	List(ctx context.Context) ([]keys.KeyInfo, error)
	Rotate(ctx context.Context, d keys.Domain) (uint32, error)
	Rewrap(ctx context.Context, d keys.Domain, progress func(done, total int64)) (int64, error)
	Destroy(ctx context.Context, d keys.Domain, v uint32) error
}

// rewrapBudget is how long one rewrap request works before it answers
// with what is left: well inside the server's write timeout and the
// command line's client timeout.
const rewrapBudget = 5 * time.Second

var keysRes = resource{typ: policy.TypeCollection, id: "keys"}

// Problems of the keys API.
var (
	ProblemUnknownKeyDomain = Problem{Status: http.StatusNotFound, Code: "unknown_key_domain",
		Title: "No such key domain"}
	ProblemUnknownKeyVersion = Problem{Status: http.StatusNotFound, Code: "unknown_key_version",
		Title: "No such key version in that domain"}
	ProblemKeyInUse = Problem{Status: http.StatusConflict, Code: "key_in_use",
		Title: "The key version is active or still protects data"}
)

// domainNames lists the key domains for problem details.
const domainNames = "customer-pii, payment-card, orders, backup, blind-index, audit-signing"

// KeyVersionView describes one key-encryption key version.
type KeyVersionView struct {
	Domain        string    `json:"domain"`
	Version       uint32    `json:"version"`
	State         string    `json:"state"`
	Created       time.Time `json:"created_at"`
	AgeSeconds    int64     `json:"age_seconds"`
	DataKeys      int64     `json:"data_keys"`
	SealsReserved int64     `json:"seals_reserved"`
}

// RotateView is the answer to a rotation.
type RotateView struct {
	Domain  string `json:"domain"`
	Version uint32 `json:"version"`
}

// RewrapView is the answer to one rewrap request.
type RewrapView struct {
	Domain    string `json:"domain"`
	Rewrapped int64  `json:"rewrapped"`
	// Remaining data keys are still under an older version.
	Remaining int64 `json:"remaining"`
	// Reindexed customers got email tokens under the newest blind-index
	// version.
	Reindexed int64 `json:"reindexed"`
	// Done is true once a whole pass finished; until then, ask again.
	Done bool `json:"done"`
}

// DestroyView is the answer to a destruction.
type DestroyView struct {
	Domain  string `json:"domain"`
	Version uint32 `json:"version"`
	State   string `json:"state"`
}

type rewrapIn struct {
	Domain string `json:"domain"`
}

// keysAllowed authorizes action on the key hierarchy and checks this node
// serves it.
func (a *API) keysAllowed(c *call, action string) bool {
	if !a.allowed(c, action, keysRes) {
		c.problem(ProblemForbidden)
		return false
	}
	if a.d.Keys == nil {
		c.problem(ProblemUnavailable.With("this node does not serve the key hierarchy", ""))
		return false
	}
	return true
}

// keySubject names the domain (or one of its versions) as the subject of
// the call's audit records.
func keySubject(c *call, d keys.Domain, version string) {
	res := audit.Resource{Type: "KeyDomain", ID: d.String()}
	if version != "" {
		res = audit.Resource{Type: "KeyVersion", ID: d.String() + "/" + version}
	}
	c.trail.subject = &res
}

func (a *API) listKeys(c *call) {
	if !a.keysAllowed(c, policy.ReadKeyMetadata) {
		return
	}
	infos, err := a.d.Keys.List(c.ctx)
	if err != nil {
		a.keysProblem(c, err)
		return
	}
	now := a.d.Now()
	page := Page[KeyVersionView]{Items: make([]KeyVersionView, 0, len(infos))}
	for _, k := range infos {
		page.Items = append(page.Items, KeyVersionView{Domain: k.Domain.String(), Version: k.Version,
			State: k.State.String(), Created: k.Created.UTC(), AgeSeconds: int64(now.Sub(k.Created).Seconds()),
			DataKeys: k.DataKeys, SealsReserved: k.Seals})
	}
	c.json(http.StatusOK, page)
}

func (a *API) rotateKey(c *call) {
	d, derr := envelope.ParseDomain(c.r.PathValue("domain"))
	if derr == nil {
		keySubject(c, d, "")
	}
	if !a.keysAllowed(c, policy.ManageKeys) {
		return
	}
	if derr != nil {
		c.problem(ProblemUnknownKeyDomain.With("domains: "+domainNames, "domain"))
		return
	}
	v, err := a.d.Keys.Rotate(c.ctx, d)
	if err != nil {
		a.keysProblem(c, err)
		return
	}
	c.json(http.StatusOK, RotateView{Domain: d.String(), Version: v})
}

func (a *API) rewrapKeys(c *call) {
	var in rewrapIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	d, derr := envelope.ParseDomain(in.Domain)
	if derr == nil {
		keySubject(c, d, "")
	}
	if !a.keysAllowed(c, policy.ManageKeys) {
		return
	}
	if derr != nil {
		c.problem(ProblemInvalid.With("domains: "+domainNames, "domain"))
		return
	}
	out, err := a.rewrap(c.ctx, d, rewrapBudget)
	if err != nil {
		a.keysProblem(c, err)
		return
	}
	c.json(http.StatusOK, out)
}

// rewrap moves d's data keys, and for the blind-index domain the email
// tokens, for about budget, stopping only between two committed batches.
func (a *API) rewrap(ctx context.Context, d keys.Domain, budget time.Duration) (RewrapView, error) {
	out := RewrapView{Domain: d.String()}
	deadline := a.d.Now().Add(budget)
	stop, cut := context.WithCancel(ctx)
	defer cut()
	stopped := false
	n, err := a.d.Keys.Rewrap(stop, d, func(done, total int64) {
		if done < total && !a.d.Now().Before(deadline) {
			stopped = true
			cut()
		}
	})
	out.Rewrapped = n
	if err != nil && !(stopped && ctx.Err() == nil && errors.Is(err, context.Canceled)) {
		return out, err
	}
	out.Done = !stopped
	if out.Done && d == envelope.BlindIndex {
		out.Done, err = a.reindex(ctx, &out, deadline)
		if err != nil {
			return out, err
		}
	}
	out.Remaining, err = a.remaining(ctx, d)
	return out, err
}

// reindex re-computes email tokens under the newest blind-index version
// until deadline; it reports whether it finished.
func (a *API) reindex(ctx context.Context, out *RewrapView, deadline time.Time) (bool, error) {
	stop, cut := context.WithCancel(ctx)
	defer cut()
	stopped := false
	n, err := a.d.Store.ReindexEmails(stop, func(int64) {
		if !a.d.Now().Before(deadline) {
			stopped = true
			cut()
		}
	})
	out.Reindexed = n
	if err != nil && !(stopped && ctx.Err() == nil && errors.Is(err, context.Canceled)) {
		return false, err
	}
	return !stopped, nil
}

// remaining counts d's live data keys under versions older than the
// active one.
func (a *API) remaining(ctx context.Context, d keys.Domain) (int64, error) {
	infos, err := a.d.Keys.List(ctx)
	if err != nil {
		return 0, err
	}
	var active uint32
	for _, k := range infos {
		if k.Domain == d && k.State == keys.Active {
			active = k.Version
		}
	}
	var n int64
	for _, k := range infos {
		if k.Domain == d && k.Version < active {
			n += k.DataKeys
		}
	}
	return n, nil
}

func (a *API) destroyKey(c *call) {
	d, derr := envelope.ParseDomain(c.r.PathValue("domain"))
	raw := c.r.PathValue("version")
	v, verr := strconv.ParseUint(raw, 10, 32)
	if derr == nil && verr == nil {
		keySubject(c, d, raw)
	}
	if !a.keysAllowed(c, policy.ManageKeys) {
		return
	}
	switch {
	case derr != nil:
		c.problem(ProblemUnknownKeyDomain.With("domains: "+domainNames, "domain"))
		return
	case verr != nil || v == 0:
		c.problem(ProblemInvalid.With("a positive number", "version"))
		return
	}
	if err := a.d.Keys.Destroy(c.ctx, d, uint32(v)); err != nil {
		a.keysProblem(c, err)
		return
	}
	c.json(http.StatusOK, DestroyView{Domain: d.String(), Version: uint32(v), State: keys.Destroyed.String()})
}

// keysProblem maps a keystore error to its problem. A refusal to destroy
// says why (which version is active, how many keys or values still use
// it): counts and names, never key material.
func (a *API) keysProblem(c *call, err error) {
	switch {
	case errors.Is(err, keys.ErrInUse):
		c.problem(ProblemKeyInUse.With(inUseDetail(err), ""))
	case errors.Is(err, keys.ErrUnknownKey):
		c.problem(ProblemUnknownKeyVersion)
	default:
		a.storeProblem(c, err)
	}
}

// inUseDetail is the keystore's reason, without the operation and the
// sentinel before it.
func inUseDetail(err error) string {
	_, reason, _ := strings.Cut(err.Error(), keys.ErrInUse.Error()+": ")
	return reason
}
