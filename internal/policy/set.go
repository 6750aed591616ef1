package policy

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/ast"
)

// Decider decides requests. An *Engine is one; so is a holder that swaps
// engines when the active policy set changes.
type Decider interface {
	Decide(Request) Decision
}

// ResourceAnnotation marks a resource policy: @resource("audit") attaches
// the policy to the collection audit.
const ResourceAnnotation = "resource"

// Set is a validated policy set with what tools need to know about each of
// its policies.
type Set struct {
	Engine   *Engine
	Source   []byte
	Policies []Info // in source order
}

// Info describes one policy of a set.
type Info struct {
	ID     string `json:"id"`
	Forbid bool   `json:"forbid"`
	// Attached is the collection a resource policy is attached to, ""
	// for an identity policy.
	Attached string `json:"attached,omitempty"`
	Line     int    `json:"line"`
	Column   int    `json:"column"`
	// AnyPrincipal, AnyAction and AnyResource report an unconstrained
	// scope; Conditions counts the when and unless clauses.
	AnyPrincipal bool `json:"any_principal"`
	AnyAction    bool `json:"any_action"`
	AnyResource  bool `json:"any_resource"`
	Conditions   int  `json:"conditions"`
	// Actions are the actions of the action scope, nil when it is
	// unconstrained.
	Actions []string `json:"actions,omitempty"`
	// Roles are the roles the policy names anywhere.
	Roles []string `json:"roles,omitempty"`
	// Networks are the network names its conditions test.
	Networks []string `json:"networks,omitempty"`
	Text     string   `json:"text"`
}

// Load validates src as New does and describes its policies. A policy
// with a @resource annotation must be a forbid whose resource scope is
// that collection (resource == SecureCart::Collection::"..."), so that
// what it is attached to is what it applies to.
func Load(src []byte) (*Set, error) {
	e, err := New(src)
	if err != nil {
		return nil, err
	}
	list, err := cedar.NewPolicyListFromBytes("policies", src)
	if err != nil {
		return nil, fmt.Errorf("parse policies: %w", err)
	}
	s := &Set{Engine: e, Source: slices.Clone(src), Policies: make([]Info, 0, len(list))}
	for _, p := range list {
		info, err := describe(p)
		if err != nil {
			return nil, err
		}
		s.Policies = append(s.Policies, info)
	}
	return s, nil
}

var (
	roleRE    = regexp.MustCompile(`SecureCart::Role::("(?:[^"\\]|\\.)*")`)
	networkRE = regexp.MustCompile(`networks\.contains(?:All|Any)?\(\s*(\[[^\]]*\]|"(?:[^"\\]|\\.)*")`)
	stringRE  = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

func describe(p *cedar.Policy) (Info, error) {
	a := (*ast.Policy)(p.AST())
	pos := p.Position()
	text := string(p.MarshalCedar())
	info := Info{
		ID:         string(p.Annotations()["id"]),
		Forbid:     a.Effect == ast.EffectForbid,
		Attached:   string(p.Annotations()[ResourceAnnotation]),
		Line:       pos.Line,
		Column:     pos.Column,
		Conditions: len(a.Conditions),
		Text:       text,
	}
	_, info.AnyPrincipal = a.Principal.(ast.ScopeTypeAll)
	_, info.AnyResource = a.Resource.(ast.ScopeTypeAll)
	switch s := a.Action.(type) {
	case ast.ScopeTypeAll:
		info.AnyAction = true
	case ast.ScopeTypeEq:
		info.Actions = []string{string(s.Entity.ID)}
	case ast.ScopeTypeIn:
		info.Actions = []string{string(s.Entity.ID)}
	case ast.ScopeTypeInSet:
		for _, e := range s.Entities {
			info.Actions = append(info.Actions, string(e.ID))
		}
	}
	info.Roles = quoted(roleRE, text)
	info.Networks = quoted(networkRE, text)

	if _, ok := p.Annotations()[ResourceAnnotation]; ok {
		if err := checkAttached(info, a); err != nil {
			return Info{}, fmt.Errorf("read policy %q at line %d, column %d: %w", info.ID, pos.Line, pos.Column, err)
		}
	}
	return info, nil
}

// checkAttached holds a resource policy to its collection.
func checkAttached(info Info, a *ast.Policy) error {
	if !info.Forbid {
		return fmt.Errorf("a resource policy must be a forbid")
	}
	m, err := loadModel()
	if err != nil {
		return err
	}
	if !m.collections[info.Attached] {
		return fmt.Errorf("@resource names %q, which is not a collection", info.Attached)
	}
	eq, ok := a.Resource.(ast.ScopeTypeEq)
	want := cedar.NewEntityUID(namespace+TypeCollection, cedar.String(info.Attached))
	if !ok || eq.Entity != want {
		return fmt.Errorf("a resource policy attached to %q must have the scope resource == %s",
			info.Attached, want)
	}
	return nil
}

// quoted returns the distinct string literals of re's first group in text,
// sorted.
func quoted(re *regexp.Regexp, text string) []string {
	var out []string
	for _, m := range re.FindAllStringSubmatch(text, -1) {
		for _, lit := range stringRE.FindAllString(m[1], -1) {
			if s, err := strconv.Unquote(lit); err == nil && !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// KnownRoles lists the roles the default policies know, sorted.
func KnownRoles() []string {
	return []string{RoleAdmin, RoleAppService, RoleDBA, RoleDeveloper, RolePaymentProvider, RoleSecurity}
}

// CollectionOf returns the collection the API addresses with a collection
// action, such as "payments" for Detokenize, or "" for another action.
func CollectionOf(action string) string {
	return actionCollections[action]
}

var actionCollections = map[string]string{
	Tokenize:         "payments",
	Detokenize:       "payments",
	DeleteCardToken:  "payments",
	ReadLogs:         "logs",
	ReadMetrics:      "metrics",
	ReadAudit:        "audit",
	ReadFindings:     "findings",
	ReadPolicies:     "policies",
	ManagePolicies:   "policies",
	RunAnalyzer:      "policies",
	ReadKeyMetadata:  "keys",
	ManageKeys:       "keys",
	ManagePrincipals: "principals",
	ManageBackups:    "backups",
}
