package analyze

import (
	"fmt"
	"slices"
	"strings"

	"github.com/securecart/securecart/internal/policy"
)

// The guardrails. Their names are API: CI pipelines match them.
const (
	RuleUnconstrained  = "unconstrained-permit"
	RulePIIWithoutMFA  = "pii-without-mfa"
	RulePIIOffNetwork  = "pii-outside-networks"
	RuleCardData       = "card-data"
	RuleDeveloperWrite = "developer-write"
	RuleUnknownRole    = "unknown-role"
	RuleNoAdminPath    = "no-admin-path"
)

// Rules lists the guardrails in the order findings are reported.
var Rules = []string{RuleUnconstrained, RulePIIWithoutMFA, RulePIIOffNetwork, RuleCardData,
	RuleDeveloperWrite, RuleUnknownRole, RuleNoAdminPath}

// Finding is a guardrail a policy set breaks.
type Finding struct {
	Rule string `json:"rule"`
	// Blocking findings make policy apply refuse the set.
	Blocking bool     `json:"blocking"`
	Detail   string   `json:"detail"`
	Policies []string `json:"policies,omitempty"`
	// Cells are the matrix cells that show it, for findings read from
	// the matrix.
	Cells []Cell `json:"cells,omitempty"`
}

// PublicActions may be granted to every principal without a condition.
var PublicActions = []string{policy.ReadProduct, policy.ListProducts}

// PIIActions return PII in clear.
var PIIActions = []string{policy.ReadPII, policy.ExportCustomer}

// CardActions return card data.
var CardActions = []string{policy.Detokenize}

// ReadActions change nothing; every other action is a write.
var ReadActions = []string{
	policy.ReadCustomer, policy.ListCustomers, policy.LookupCustomer, policy.ExportCustomer,
	policy.ReadPII, policy.ReadProduct, policy.ListProducts, policy.ReadOrder, policy.ListOrders,
	policy.ReadTransaction, policy.ReadLogs, policy.ReadMetrics, policy.ReadAudit,
	policy.ReadFindings, policy.ReadPolicies, policy.RunAnalyzer, policy.ReadKeyMetadata,
}

// HomeNetworks are the networks a service role is held to.
var HomeNetworks = map[string][]string{
	policy.RoleAppService:      {policy.NetworkApplication},
	policy.RolePaymentProvider: {policy.NetworkPayment},
}

// AdminActions are what an admin who is a person must be able to do with
// MFA in some context, so that a broken set can be repaired.
var AdminActions = []string{policy.ManagePrincipals, policy.ManagePolicies}

// structural checks the policies themselves: unconstrained permits and
// grants to unknown roles.
func structural(set *policy.Set) []Finding {
	var out []Finding
	known := policy.KnownRoles()
	for _, p := range set.Policies {
		if p.Forbid {
			continue
		}
		switch {
		case p.AnyAction:
			out = append(out, Finding{Rule: RuleUnconstrained, Policies: []string{p.ID},
				Detail: fmt.Sprintf("permit %s allows any action", p.ID)})
		case p.AnyPrincipal && p.Conditions == 0 && !subset(p.Actions, PublicActions):
			out = append(out, Finding{Rule: RuleUnconstrained, Policies: []string{p.ID},
				Detail: fmt.Sprintf("permit %s allows any principal, with no condition, more than public reads", p.ID)})
		}
		for _, r := range p.Roles {
			if !slices.Contains(known, r) {
				out = append(out, Finding{Rule: RuleUnknownRole, Policies: []string{p.ID},
					Detail: fmt.Sprintf("permit %s grants to role %q, which the default policies do not know", p.ID, r)})
			}
		}
	}
	return out
}

func subset(xs, of []string) bool {
	for _, x := range xs {
		if !slices.Contains(of, x) {
			return false
		}
	}
	return len(xs) > 0
}

// fromMatrix reads the guardrails the matrix shows.
func fromMatrix(set *policy.Set, m *Matrix) []Finding {
	groups := map[string]*Finding{}
	var order []string
	add := func(rule, detail string, r Row, v Variant) {
		key := strings.Join([]string{rule, r.Role, r.Kind, r.Action, r.Resource}, "\x00")
		f, ok := groups[key]
		if !ok {
			f = &Finding{Rule: rule, Detail: detail}
			groups[key] = f
			order = append(order, key)
		}
		f.Cells = append(f.Cells, r.cell(v))
		d := set.Engine.Decide(request(subject{r.Role, r.Kind}, rowTarget(r), v))
		for _, id := range d.Policies {
			if !slices.Contains(f.Policies, id) {
				f.Policies = append(f.Policies, id)
			}
		}
	}
	for _, r := range m.Rows {
		for i, c := range []byte(r.Cells) {
			if c != 'Y' {
				continue
			}
			v := m.Variants[i]
			for _, rule := range cellRules(r, v) {
				add(rule, describeRule(rule, r), r, v)
			}
		}
	}
	out := make([]Finding, 0, len(order))
	for _, k := range order {
		slices.Sort(groups[k].Policies)
		out = append(out, *groups[k])
	}
	return append(out, adminPath(m)...)
}

// cellRules are the guardrails an allowed cell breaks.
func cellRules(r Row, v Variant) []string {
	var out []string
	if slices.Contains(PIIActions, r.Action) {
		if r.Kind == policy.KindPerson && !v.MFA {
			out = append(out, RulePIIWithoutMFA)
		}
		if r.Kind == policy.KindService && !inHome(r.Role, v) {
			out = append(out, RulePIIOffNetwork)
		}
	}
	if slices.Contains(CardActions, r.Action) && !(r.Role == policy.RolePaymentProvider && v.MTLS) {
		out = append(out, RuleCardData)
	}
	if r.Role == policy.RoleDeveloper && !slices.Contains(ReadActions, r.Action) {
		out = append(out, RuleDeveloperWrite)
	}
	return out
}

// inHome reports whether a variant is inside one of a role's networks. A
// role with none has no network to be inside of.
func inHome(role string, v Variant) bool {
	for _, n := range HomeNetworks[role] {
		if slices.Contains(v.Networks, n) {
			return true
		}
	}
	return false
}

func describeRule(rule string, r Row) string {
	who := r.Role
	if who == "" {
		who = "a principal with no role"
	}
	what := r.Action + " on " + r.Resource
	switch rule {
	case RulePIIWithoutMFA:
		return fmt.Sprintf("%s (person) reaches PII in clear without MFA: %s", who, what)
	case RulePIIOffNetwork:
		return fmt.Sprintf("%s (service) reaches PII in clear from outside its networks: %s", who, what)
	case RuleCardData:
		return fmt.Sprintf("%s (%s) reaches card data other than as the payment provider over mTLS: %s",
			who, r.Kind, what)
	case RuleDeveloperWrite:
		return fmt.Sprintf("developer (%s) may write: %s", r.Kind, what)
	}
	return rule
}

func rowTarget(r Row) target {
	t := target{action: r.Action, owner: r.Owner}
	t.typ, t.id, _ = strings.Cut(r.Resource, "::")
	return t
}

// adminPath checks that an admin who is a person can, with MFA, manage
// principals and policies in at least one variant.
func adminPath(m *Matrix) []Finding {
	var missing []string
	for _, action := range AdminActions {
		ok := false
		for _, r := range m.Rows {
			if r.Role != policy.RoleAdmin || r.Kind != policy.KindPerson || r.Action != action {
				continue
			}
			for i, c := range []byte(r.Cells) {
				ok = ok || c == 'Y' && m.Variants[i].MFA
			}
		}
		if !ok {
			missing = append(missing, action)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	return []Finding{{Rule: RuleNoAdminPath, Blocking: true,
		Detail: "no admin who is a person can, with MFA, " + strings.Join(missing, " or ") +
			" in any context: nobody could repair this set"}}
}
