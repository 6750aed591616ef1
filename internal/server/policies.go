package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/policy/versions"
)

// The policies API: the security team lists, reads, applies and rolls back
// versions of the policy set. Every version is kept; the highest is active
// on every node within the store's polling interval, at once on this one.

// Problems of the policies API.
var (
	ProblemPolicyInvalid = Problem{Status: http.StatusUnprocessableEntity, Code: "policy_invalid",
		Title: "The policy set does not parse or validate"}
	ProblemPolicyRefused = Problem{Status: http.StatusUnprocessableEntity, Code: "policy_refused",
		Title: "The policy set breaks a blocking guardrail"}
)

// maxPolicyBody bounds an apply: the largest policy set plus JSON quoting.
const maxPolicyBody = 2*policy.MaxSourceBytes + 4096

var policiesRes = resource{typ: policy.TypeCollection, id: "policies"}

// PolicyVersionView is a stored version of the policy set.
type PolicyVersionView struct {
	versions.Version
	Active bool `json:"active"`
	// Policies are set only when one version is read.
	Policies []policy.Info `json:"policies,omitempty"`
	Source   string        `json:"source,omitempty"`
}

// AppliedView answers an apply or a rollback.
type AppliedView struct {
	PolicyVersionView
	// Findings are the guardrails the set breaks that did not block it.
	Findings []analyze.Finding `json:"findings"`
}

type applyIn struct {
	Source string `json:"source"`
	Note   string `json:"note"`
}

// policies authorizes action on the policy set and checks the store is
// there. Changing the set needs MFA of a person whatever the set says, so
// that no policy change can drop that requirement for the next one.
func (a *API) policies(c *call, action string) bool {
	if a.d.Policies == nil {
		c.problem(ProblemUnavailable)
		return false
	}
	if !a.allowed(c, action, policiesRes) {
		c.problem(ProblemForbidden)
		return false
	}
	if action == policy.ManagePolicies && c.principal.Kind == policy.KindPerson && !c.principal.MFA {
		c.problem(ProblemForbidden.With("changing policies needs a session signed in with MFA", ""))
		return false
	}
	return true
}

func (a *API) activeVersion() int64 {
	n, _ := a.d.Policies.Live().Active()
	return n
}

func (a *API) listPolicyVersions(c *call) {
	if !a.policies(c, policy.ReadPolicies) {
		return
	}
	vs, err := a.d.Policies.List(c.ctx)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	active := a.activeVersion()
	out := Page[PolicyVersionView]{Items: []PolicyVersionView{}}
	for _, v := range vs {
		out.Items = append(out.Items, PolicyVersionView{Version: v, Active: v.Number == active})
	}
	c.json(http.StatusOK, out)
}

func (a *API) getPolicyVersion(c *call) {
	n, err := strconv.ParseInt(c.r.PathValue("version"), 10, 64)
	if err != nil || n < 0 {
		c.problem(ProblemNotFound)
		return
	}
	if !a.policies(c, policy.ReadPolicies) {
		return
	}
	v, err := a.d.Policies.Get(c.ctx, n)
	if err != nil {
		a.policyProblem(c, err)
		return
	}
	set, err := policy.Load(v.Source)
	if err != nil {
		a.storeProblem(c, fmt.Errorf("load stored policy version %d: %w", n, err))
		return
	}
	c.json(http.StatusOK, PolicyVersionView{Version: *v, Active: n == a.activeVersion(),
		Policies: set.Policies, Source: string(v.Source)})
}

func (a *API) applyPolicies(c *call) {
	var in applyIn
	if p, ok := decodePolicyBody(c.r, &in); !ok {
		c.problem(p)
		return
	}
	if !a.policies(c, policy.ManagePolicies) {
		return
	}
	digest, err := json.Marshal(in)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	a.versionOnce(c, digest, func() (*versions.Version, []analyze.Finding, error) {
		v, findings, err := a.d.Policies.Apply(c.ctx, []byte(in.Source), c.principal.ID, in.Note)
		if err == nil {
			a.d.Logger.Info("policy set applied", "request_id", c.requestID, "principal", c.principal.ID,
				"version", v.Number)
		}
		return v, findings, err
	})
}

// versionOnce runs change, which stores a new version of the policy set,
// honouring the request's Idempotency-Key: a retry with the same key and
// request stores nothing and gets the version the first request stored,
// with the findings its source has.
func (a *API) versionOnce(c *call, digest []byte, change func() (*versions.Version, []analyze.Finding, error)) {
	create := func() (string, any, error) {
		v, findings, err := change()
		if err != nil {
			return "", nil, err
		}
		view := AppliedView{PolicyVersionView{Version: *v, Active: true}, nonNil(findings)}
		return strconv.FormatInt(v.Number, 10), view, nil
	}
	replay := func(prev string) {
		n, err := strconv.ParseInt(prev, 10, 64)
		if err != nil {
			a.storeProblem(c, fmt.Errorf("idempotency record names policy version %q: %w", prev, err))
			return
		}
		v, err := a.d.Policies.Get(c.ctx, n)
		if err != nil {
			a.policyProblem(c, err)
			return
		}
		var findings []analyze.Finding
		if v.RollbackOf == nil {
			_, report, err := versions.Check(v.Source)
			if err != nil {
				a.storeProblem(c, fmt.Errorf("check stored policy version %d: %w", n, err))
				return
			}
			findings = report.Findings
		}
		c.w.Header().Set("Idempotent-Replayed", "true")
		c.json(http.StatusCreated, AppliedView{PolicyVersionView{Version: *v, Active: n == a.activeVersion()},
			nonNil(findings)})
	}
	a.replayOr(c, digest, a.policyProblem, create, replay)
}

func (a *API) rollbackPolicies(c *call) {
	n, err := strconv.ParseInt(c.r.PathValue("version"), 10, 64)
	if err != nil || n < 0 {
		c.problem(ProblemNotFound)
		return
	}
	if !a.policies(c, policy.ManagePolicies) {
		return
	}
	a.versionOnce(c, nil, func() (*versions.Version, []analyze.Finding, error) {
		v, err := a.d.Policies.Rollback(c.ctx, n, c.principal.ID)
		if err == nil {
			a.d.Logger.Info("policy set rolled back", "request_id", c.requestID, "principal", c.principal.ID,
				"version", v.Number, "rollback_of", n)
		}
		return v, nil, err
	})
}

func nonNil(fs []analyze.Finding) []analyze.Finding {
	if fs == nil {
		return []analyze.Finding{}
	}
	return fs
}

// policyProblem maps the policy store's errors. A validation error goes
// back to the security team that sent the set, with its line and column:
// it quotes their own document, never stored data.
func (a *API) policyProblem(c *call, err error) {
	var inv *versions.InvalidError
	var ref *versions.RefusedError
	switch {
	case errors.As(err, &inv):
		c.problem(ProblemPolicyInvalid.With(inv.Err.Error(), "source"))
	case errors.As(err, &ref):
		detail := ""
		for i, f := range ref.Findings {
			if i > 0 {
				detail += "; "
			}
			detail += f.Rule + ": " + f.Detail
		}
		c.problem(ProblemPolicyRefused.With(detail, "source"))
	case errors.Is(err, versions.ErrNotFound):
		c.problem(ProblemNotFound)
	case errors.Is(err, versions.ErrConflict):
		c.problem(ProblemConflict)
	default:
		a.storeProblem(c, err)
	}
}

// decodePolicyBody is DecodeJSON with room for a whole policy set.
func decodePolicyBody(r *http.Request, v any) (Problem, bool) {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return ProblemMediaType, false
		}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxPolicyBody+1))
	if err != nil {
		return ProblemMalformed.With("the body could not be read", ""), false
	}
	if len(body) > maxPolicyBody {
		return ProblemTooLarge.With(fmt.Sprintf("at most %d bytes", maxPolicyBody), ""), false
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err), false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return ProblemMalformed.With("unexpected data after the JSON value", ""), false
	}
	return Problem{}, true
}
