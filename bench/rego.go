package bench

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/policygen"
)

// regoConditions are the generated conditions in Rego, one expression a
// line. Cedar's "has" is Rego's undefined reference: the input carries an
// attribute only where the schema gives the resource type one.
var regoConditions = map[string][]string{
	policygen.Conditions[0]:  {`input.principal.kind == "service"`},
	policygen.Conditions[1]:  {`input.principal.kind != "customer"`, `input.context.mfa == true`},
	policygen.Conditions[2]:  {`input.context.mfa == true`, `"payment" in input.context.networks`},
	policygen.Conditions[3]:  {`not "office" in input.context.networks`},
	policygen.Conditions[4]:  {`input.context.mtls == false`},
	policygen.Conditions[5]:  {`input.context.mtls == true`, `input.principal.kind != "person"`},
	policygen.Conditions[6]:  {`input.context.time > 1767225600`},
	policygen.Conditions[7]:  {`input.resource.owner == input.principal.id`},
	policygen.Conditions[8]:  {`net.cidr_contains("10.0.0.0/8", input.context.sourceIp)`},
	policygen.Conditions[9]:  {`input.context.mtlsIdentity == "psp-1"`},
	policygen.Conditions[10]: {`startswith(input.principal.id, "p1")`},
	policygen.Conditions[11]: {`input.principal.kind == "person"`, `input.principal.id == "p2"`},
}

// Cedar's arithmetic is on 64-bit integers and fails on overflow, where
// Rego's numbers have no bound: policygen.Failing becomes a permit or
// forbid when its product fits in 64 bits and a failed policy otherwise.
var (
	regoFailingGuard = []string{`input.context.mfa == true`}
	regoFailingFits  = []string{`fits_long(input.context.time * 10000000000)`, `input.context.time * 10000000000 > 0`}
	regoFailingFails = []string{`not fits_long(input.context.time * 10000000000)`}
)

const regoHeader = `package securecart

fits_long(x) if {
	x >= -9223372036854775808
	x <= 9223372036854775807
}

default allow := false

allow if {
	count(forbids) == 0
	count(permits) > 0
}

decision := {"allow": allow, "permits": permits, "forbids": forbids, "failed": failed}
`

// Rego writes ps as a Rego module, package securecart: a rule per policy
// adding its id to permits or forbids when it matches, or to failed when
// Cedar's evaluation of it would fail. It accepts the conditions of
// policygen.Conditions and policygen.Failing.
func Rego(ps []policygen.Policy) (string, error) {
	var b strings.Builder
	b.WriteString(regoHeader)
	for _, p := range ps {
		scope, err := regoScope(p)
		if err != nil {
			return "", err
		}
		head := "permits"
		if p.Forbid {
			head = "forbids"
		}
		if p.Condition != policygen.Failing {
			cond, ok := regoConditions[p.Condition]
			if p.Condition != "" && !ok {
				return "", fmt.Errorf("translate policy %s: no Rego for condition %s", p.ID, p.Condition)
			}
			writeRule(&b, head, p.ID, scope, cond)
			continue
		}
		guarded := append(scope, regoFailingGuard...)
		writeRule(&b, head, p.ID, guarded, regoFailingFits)
		writeRule(&b, "failed", p.ID, guarded, regoFailingFails)
	}
	return b.String(), nil
}

func writeRule(b *strings.Builder, head, id string, body ...[]string) {
	fmt.Fprintf(b, "\n%s contains %s if {\n", head, strconv.Quote(id))
	for _, exprs := range body {
		for _, e := range exprs {
			fmt.Fprintf(b, "\t%s\n", e)
		}
	}
	b.WriteString("}\n")
}

// regoScope returns the tests of p's scope, the action first so that OPA's
// rule index can select on it.
func regoScope(p policygen.Policy) ([]string, error) {
	var out []string
	if p.Action != "" {
		out = append(out, "input.action == "+strconv.Quote(p.Action))
	}
	switch p.Principal.Op {
	case policygen.All:
	case policygen.Eq:
		out = append(out, "input.principal.id == "+strconv.Quote(p.Principal.ID))
	case policygen.In, policygen.IsIn:
		// Every principal is of type Principal, so "is" adds nothing.
		out = append(out, "input.principal.roles[_] == "+strconv.Quote(p.Principal.ID))
	default:
		return nil, fmt.Errorf("translate policy %s: principal scope %d", p.ID, p.Principal.Op)
	}
	switch p.Resource.Op {
	case policygen.All:
	case policygen.Is:
		out = append(out, "input.resource.type == "+strconv.Quote(p.Resource.Type))
	case policygen.Eq:
		out = append(out, "input.resource.type == "+strconv.Quote(p.Resource.Type),
			"input.resource.id == "+strconv.Quote(p.Resource.ID))
	default:
		return nil, fmt.Errorf("translate policy %s: resource scope %d", p.ID, p.Resource.Op)
	}
	return out, nil
}

// OPA is a Rego module prepared for evaluation: parsed and compiled once,
// then evaluated per request.
type OPA struct {
	query rego.PreparedEvalQuery
}

// NewOPA prepares the query for the decision of module, written by Rego.
func NewOPA(ctx context.Context, module string) (*OPA, error) {
	q, err := rego.New(
		rego.Query("data.securecart.decision"),
		rego.Module("securecart.rego", module),
	).PrepareForEval(ctx)
	if err != nil {
		return nil, fmt.Errorf("prepare rego query: %w", err)
	}
	return &OPA{query: q}, nil
}

// Decide evaluates the prepared query on r.
func (o *OPA) Decide(ctx context.Context, r policy.Request) (Outcome, error) {
	rs, err := o.query.Eval(ctx, rego.EvalParsedInput(regoInput(&r)))
	if err != nil {
		return Outcome{}, fmt.Errorf("evaluate rego query: %w", err)
	}
	if len(rs) != 1 || len(rs[0].Expressions) != 1 {
		return Outcome{}, fmt.Errorf("evaluate rego query: %d results", len(rs))
	}
	d, ok := rs[0].Expressions[0].Value.(map[string]any)
	if !ok {
		return Outcome{}, fmt.Errorf("evaluate rego query: decision of type %T", rs[0].Expressions[0].Value)
	}
	allow, _ := d["allow"].(bool)
	out := Outcome{Allow: allow, Failed: stringSet(d["failed"])}
	if allow {
		out.Policies = stringSet(d["permits"])
	} else {
		out.Policies = stringSet(d["forbids"])
	}
	return out.sorted(), nil
}

// stringSet reads a Rego set of strings, which OPA returns as a slice.
func stringSet(v any) []string {
	xs, _ := v.([]any)
	var out []string
	for _, x := range xs {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// regoInput is r as OPA's input document, with the attributes Cedar sees.
func regoInput(r *policy.Request) ast.Value {
	roles := make([]*ast.Term, len(r.Roles))
	for i, role := range r.Roles {
		roles[i] = ast.StringTerm(role)
	}
	networks := make([]*ast.Term, len(r.Networks))
	for i, n := range r.Networks {
		networks[i] = ast.StringTerm(n)
	}

	resource := [][2]*ast.Term{
		ast.Item(ast.StringTerm("type"), ast.StringTerm(r.ResourceType)),
		ast.Item(ast.StringTerm("id"), ast.StringTerm(r.ResourceID)),
	}
	switch r.ResourceType {
	case policy.TypeCustomer:
		resource = append(resource,
			ast.Item(ast.StringTerm("owner"), ast.StringTerm(r.Owner)),
			ast.Item(ast.StringTerm("classification"), ast.StringTerm(r.Classification)))
	case policy.TypeOrder:
		resource = append(resource, ast.Item(ast.StringTerm("owner"), ast.StringTerm(r.Owner)))
	case policy.TypeTransaction:
		resource = append(resource, ast.Item(ast.StringTerm("order"), ast.StringTerm(r.Order)))
	}

	return ast.NewObject(
		ast.Item(ast.StringTerm("principal"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("id"), ast.StringTerm(r.PrincipalID)),
			ast.Item(ast.StringTerm("kind"), ast.StringTerm(r.PrincipalKind)),
			ast.Item(ast.StringTerm("roles"), ast.ArrayTerm(roles...)),
		)),
		ast.Item(ast.StringTerm("action"), ast.StringTerm(r.Action)),
		ast.Item(ast.StringTerm("resource"), ast.ObjectTerm(resource...)),
		ast.Item(ast.StringTerm("context"), ast.ObjectTerm(
			ast.Item(ast.StringTerm("sourceIp"), ast.StringTerm(r.Source.Unmap().String())),
			ast.Item(ast.StringTerm("networks"), ast.ArrayTerm(networks...)),
			ast.Item(ast.StringTerm("mfa"), ast.BooleanTerm(r.MFA)),
			ast.Item(ast.StringTerm("mtls"), ast.BooleanTerm(r.MTLS)),
			ast.Item(ast.StringTerm("mtlsIdentity"), ast.StringTerm(r.MTLSIdentity)),
			ast.Item(ast.StringTerm("time"), ast.IntNumberTerm(int(r.Time.Unix()))),
		)),
	)
}
