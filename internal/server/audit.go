package server

import (
	"context"
	"crypto/tls"
	"errors"
	"net/http"
	"slices"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/policy"
)

// Auditor is where the API records every request. *audit.Log implements
// it: Append returns once the record is durable; AppendAsync takes a
// record nothing waits on and reports how it ended through then.
type Auditor interface {
	Append(ctx context.Context, r *audit.Record) (uint64, error)
	AppendAsync(r *audit.Record, then func(seq uint64, err error)) error
}

// AuditQuerier serves GET /v1/audit. *audit.Reader implements it.
type AuditQuerier interface {
	Query(ctx context.Context, f audit.Filter, cursor string, limit int) (audit.Page, error)
}

// How a request reaches the audit trail
//
// The first decision a handler asks for is the request's: its action and
// resource. When it allows, the request record (who, from where, what,
// the decision and the policies that made it) is appended and made
// durable before the handler goes on; if it cannot be, the request is
// answered 503 and nothing runs. The only read that can come before it is
// the lookup of a resource's owner that the decision itself needs, and
// nothing of it is returned. Later decisions (whether PII may be shown in
// clear) only add the names of the fields returned in clear.
//
// Once the handler is done, an outcome record names the request record
// and says how it ended (status and problem code). It is appended without
// holding up the answer; Close waits for those still on their way. A
// request refused before any decision (no credentials, rate limited, a
// refused body) gets the outcome record alone.

// trail is one call's audit state.
type trail struct {
	seq     uint64 // the request record, once durable
	decided bool
	action  string
	res     resource
	// subject, if set, is what the records name as the resource instead
	// of the one decided on, such as the token a detokenization opens.
	subject *audit.Resource
	// purpose is the purpose the caller stated, if the action asks for one.
	purpose  string
	decision policy.Decision
	fields   []string
	errCode  string
	failed   bool // the request record could not be made durable
}

// customerFields are the classified fields a customer view shows in clear
// to a caller that may read PII.
var customerFields = []string{"customers.name", "customers.email", "customers.phone", "customers.address"}

// noteFields are those of an order view.
var noteFields = []string{"orders.notes"}

// cardFields are those detokenize returns.
var cardFields = []string{"vault_cards.pan", "vault_cards.expiry", "vault_cards.holder"}

// inClear notes that the answer holds fields in clear.
func (c *call) inClear(fields ...string) {
	for _, f := range fields {
		if !slices.Contains(c.trail.fields, f) {
			c.trail.fields = append(c.trail.fields, f)
		}
	}
}

// recordRequest makes the request record durable after the call's first
// decision, if it allowed. It reports false when the record could not be
// written; the call has then been answered 503.
func (a *API) recordRequest(c *call, action string, res resource, d policy.Decision) bool {
	if c.trail.decided {
		return true
	}
	c.trail.decided, c.trail.action, c.trail.res, c.trail.decision = true, action, res, d
	if a.d.Audit == nil || !d.Allow {
		return true
	}
	rec := a.record(c, audit.PhaseRequest)
	seq, err := a.d.Audit.Append(c.ctx, rec)
	if err != nil {
		c.trail.failed = true
		if a.d.Metrics != nil {
			a.d.Metrics.AuditUnavailable()
		}
		if !errors.Is(err, context.Canceled) {
			a.d.Logger.Warn("audit record refused; request not run", "request_id", c.requestID, "err", err)
		}
		c.problem(ProblemUnavailable.With("the audit trail cannot record this request now", ""))
		return false
	}
	c.trail.seq = seq
	return true
}

// recordOutcome appends the call's outcome record without holding up the
// answer.
func (a *API) recordOutcome(c *call, status int) {
	if a.d.Audit == nil || c.trail.failed {
		return
	}
	rec := a.record(c, audit.PhaseOutcome)
	rec.RequestSeq = c.trail.seq
	rec.Outcome = audit.Outcome{Status: status, ErrorCode: c.trail.errCode}
	lost := func(err error) {
		if a.d.Metrics != nil {
			a.d.Metrics.AuditUnavailable()
		}
		a.d.Logger.Warn("audit outcome record lost", "request_id", rec.RequestID, "err", err)
	}
	a.outcomes.Add(1)
	err := a.d.Audit.AppendAsync(rec, func(_ uint64, err error) {
		defer a.outcomes.Done()
		if err != nil {
			lost(err)
		}
	})
	if err != nil {
		a.outcomes.Done()
		lost(err)
	}
}

// Close waits for the outcome records still on their way to the audit
// trail. Call it after the HTTP server has stopped and before closing the
// trail.
func (a *API) Close() { a.outcomes.Wait() }

func (a *API) record(c *call, phase audit.Phase) *audit.Record {
	rec := &audit.Record{
		Phase:     phase,
		Time:      a.d.Now(),
		RequestID: c.requestID,
		Principal: audit.Principal{ID: c.principal.ID, Kind: c.principal.Kind, Roles: c.principal.Roles},
		Source: audit.Source{Address: c.source.String(), ClientCert: c.mtlsID,
			UserAgent: c.r.UserAgent()},
		Action:   c.trail.action,
		Resource: audit.Resource{Type: c.trail.res.typ, ID: c.trail.res.id},
		Purpose:  c.trail.purpose,
		Fields:   c.trail.fields,
	}
	if c.trail.subject != nil {
		rec.Resource = *c.trail.subject
	}
	if rec.Action == "" {
		// Refused before any decision: name the operation by its route.
		rec.Action = c.r.Method + ":" + routeOf(c.r)
	}
	if t := c.r.TLS; t != nil {
		rec.Source.TLSVersion = t.Version
	}
	if c.trail.decided {
		rec.Decision = audit.Decision{Effect: audit.EffectDeny, Policies: c.trail.decision.Policies}
		if c.trail.decision.Allow {
			rec.Decision.Effect = audit.EffectAllow
		}
	}
	return rec
}

type auditPage struct {
	Items      []auditItem `json:"items"`
	NextCursor string      `json:"next_cursor,omitempty"`
}

type auditItem struct {
	Seq        uint64    `json:"seq"`
	Phase      string    `json:"phase"`
	RequestSeq uint64    `json:"request_seq,omitempty"`
	Time       time.Time `json:"time"`
	RequestID  string    `json:"request_id"`
	Principal  struct {
		ID    string   `json:"id,omitempty"`
		Kind  string   `json:"kind,omitempty"`
		Roles []string `json:"roles,omitempty"`
	} `json:"principal"`
	Source struct {
		Address    string `json:"address,omitempty"`
		TLSVersion string `json:"tls_version,omitempty"`
		ClientCert string `json:"client_cert,omitempty"`
		UserAgent  string `json:"user_agent,omitempty"`
	} `json:"source"`
	Action   string `json:"action"`
	Resource struct {
		Type string `json:"type,omitempty"`
		ID   string `json:"id,omitempty"`
	} `json:"resource"`
	Decision struct {
		Effect   string   `json:"effect"`
		Policies []string `json:"policies,omitempty"`
	} `json:"decision"`
	Outcome *struct {
		Status    int    `json:"status"`
		ErrorCode string `json:"error_code,omitempty"`
	} `json:"outcome,omitempty"`
	Purpose string   `json:"purpose,omitempty"`
	Fields  []string `json:"fields_in_clear,omitempty"`
}

func newAuditItem(e audit.Entry) auditItem {
	r := e.Record
	var it auditItem
	it.Seq, it.Phase, it.RequestSeq, it.Time, it.RequestID = e.Seq, r.Phase.String(), r.RequestSeq, r.Time, r.RequestID
	it.Principal.ID, it.Principal.Kind, it.Principal.Roles = r.Principal.ID, r.Principal.Kind, r.Principal.Roles
	it.Source.Address, it.Source.ClientCert, it.Source.UserAgent = r.Source.Address, r.Source.ClientCert, r.Source.UserAgent
	if r.Source.TLSVersion != 0 {
		it.Source.TLSVersion = tls.VersionName(r.Source.TLSVersion)
	}
	it.Action = r.Action
	it.Resource.Type, it.Resource.ID = r.Resource.Type, r.Resource.ID
	it.Decision.Effect, it.Decision.Policies = r.Decision.Effect.String(), r.Decision.Policies
	if r.Phase == audit.PhaseOutcome {
		it.Outcome = &struct {
			Status    int    `json:"status"`
			ErrorCode string `json:"error_code,omitempty"`
		}{r.Outcome.Status, r.Outcome.ErrorCode}
	}
	it.Purpose, it.Fields = r.Purpose, r.Fields
	return it
}

// auditTrail serves the audit trail to the roles that may read it, newest
// records last, a page at a time.
func (a *API) auditTrail(c *call) {
	if !a.allowed(c, policy.ReadAudit, resource{typ: policy.TypeCollection, id: "audit"}) {
		c.problem(ProblemForbidden)
		return
	}
	if a.d.AuditReader == nil {
		c.problem(ProblemUnavailable)
		return
	}
	q := c.r.URL.Query()
	cursor, limit, ok := pageArgs(c)
	if !ok {
		return
	}
	f := audit.Filter{PrincipalID: q.Get("principal"), Action: q.Get("action"),
		ResourceType: q.Get("resource_type"), ResourceID: q.Get("resource_id"), Purpose: q.Get("purpose"),
		Outcome: q.Get("outcome")}
	switch f.Outcome {
	case "", audit.OutcomeSuccess, audit.OutcomeFailure, audit.OutcomeDenied:
	default:
		c.problem(ProblemInvalid.With("success, failure or denied", "outcome"))
		return
	}
	for _, t := range []struct {
		name string
		dst  *time.Time
	}{{"since", &f.Since}, {"until", &f.Until}} {
		if s := q.Get(t.name); s != "" {
			v, err := time.Parse(time.RFC3339, s)
			if err != nil {
				c.problem(ProblemInvalid.With("an RFC 3339 time", t.name))
				return
			}
			*t.dst = v
		}
	}
	page, err := a.d.AuditReader.Query(c.ctx, f, cursor, limit)
	if errors.Is(err, audit.ErrCursor) {
		c.problem(ProblemInvalid.With("not a cursor this endpoint gave", "cursor"))
		return
	}
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	out := auditPage{Items: []auditItem{}, NextCursor: page.Next}
	for _, e := range page.Entries {
		out.Items = append(out.Items, newAuditItem(e))
	}
	c.json(http.StatusOK, out)
}
