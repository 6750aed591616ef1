package analyze

import (
	"cmp"
	"fmt"
	"io"
	"iter"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/securecart/securecart/internal/policy"
)

// Grant is what a role may do: an action on a resource type, allowed in
// at least one cell of the matrix (some kind, owner or context). Resource
// is written as in a Row: "Customer", or "Collection::audit" for a
// collection. Role is "" for a principal with no role, such as a customer.
type Grant struct {
	Role     string `json:"role"`
	Action   string `json:"action"`
	Resource string `json:"resource"`
}

// Use is one record of an allowed request in the audit trail (its
// request or its outcome record).
type Use struct {
	Roles        []string
	Action       string
	ResourceType string
	ResourceID   string
	// Policies are the policies that determined the decision.
	Policies []string
	// Fields are the classified fields returned in clear. Customer and
	// order fields in clear exercise readPII, which the API decides
	// within a read and does not record as an action of its own.
	Fields []string
}

// piiTables are the tables whose fields in clear mean readPII.
var piiTables = []string{"customers.", "orders."}

func showsPII(fields []string) bool {
	for _, f := range fields {
		for _, t := range piiTables {
			if strings.HasPrefix(f, t) {
				return true
			}
		}
	}
	return false
}

// Usage says which grants a stretch of the audit trail exercised.
type Usage struct {
	Grants []Grant `json:"grants"` // every grant of the matrix, sorted
	Uses   int     `json:"uses"`   // the records read
	// Unused are the grants no use exercised, sorted.
	Unused []Grant `json:"unused"`
}

// Grants returns the distinct grants the matrix allows, sorted by role,
// action and resource.
func (m *Matrix) Grants() []Grant {
	seen := map[Grant]bool{}
	for _, r := range m.Rows {
		for i := range len(r.Cells) {
			if r.Cells[i] == 'Y' {
				seen[Grant{Role: r.Role, Action: r.Action, Resource: r.Resource}] = true
				break
			}
		}
	}
	out := make([]Grant, 0, len(seen))
	for g := range seen {
		out = append(out, g)
	}
	slices.SortFunc(out, compareGrants)
	return out
}

func compareGrants(a, b Grant) int {
	return cmp.Or(cmp.Compare(a.Role, b.Role), cmp.Compare(a.Action, b.Action), cmp.Compare(a.Resource, b.Resource))
}

// Exercised reads uses and reports which grants of set's matrix m they
// exercised. A use exercises, for each of its roles (or the customer's
// empty role when it has none), the grant of that role for its action and
// resource, when that role has it. Of several such roles, those named by a
// policy that determined the decision are credited; when none is named
// (a policy for every principal), all of them are. A use whose resource
// the matrix does not address (detokenize names the card token, not the
// payments collection) is matched to its action's only resource. A use
// that showed customer or order fields in clear also exercises readPII on
// Customer.
func Exercised(set *policy.Set, m *Matrix, uses iter.Seq[Use]) Usage {
	grants := m.Grants()
	has := map[Grant]bool{}
	resources := map[string][]string{} // action -> resources granted to anyone
	for _, g := range grants {
		has[g] = true
		if !slices.Contains(resources[g.Action], g.Resource) {
			resources[g.Action] = append(resources[g.Action], g.Resource)
		}
	}
	named := map[string][]string{} // policy id -> roles it names
	for _, p := range set.Policies {
		named[p.ID] = p.Roles
	}

	u := Usage{Grants: grants}
	used := map[Grant]bool{}
	credit := func(use Use, action, res string) {
		if rs := resources[action]; !slices.Contains(rs, res) && len(rs) == 1 {
			res = rs[0]
		}
		roles := use.Roles
		if len(roles) == 0 {
			roles = []string{""}
		}
		var holders, credited []Grant
		for _, role := range roles {
			g := Grant{Role: role, Action: action, Resource: res}
			if !has[g] {
				continue
			}
			holders = append(holders, g)
			for _, id := range use.Policies {
				if slices.Contains(named[id], role) {
					credited = append(credited, g)
					break
				}
			}
		}
		if len(credited) == 0 {
			credited = holders
		}
		for _, g := range credited {
			used[g] = true
		}
	}
	for use := range uses {
		u.Uses++
		res := use.ResourceType
		if res == policy.TypeCollection {
			res += "::" + use.ResourceID
		}
		credit(use, use.Action, res)
		if showsPII(use.Fields) {
			credit(use, policy.ReadPII, policy.TypeCustomer)
		}
	}
	u.Unused = []Grant{}
	for _, g := range grants {
		if !used[g] {
			u.Unused = append(u.Unused, g)
		}
	}
	return u
}

// WriteUnused prints the unused grants as a table.
func WriteUnused(w io.Writer, u Usage) error {
	fmt.Fprintf(w, "%d of %d grants unused (%d records of allowed requests read)\n", len(u.Unused), len(u.Grants), u.Uses)
	if len(u.Unused) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tACTION\tRESOURCE")
	for _, g := range u.Unused {
		role := g.Role
		if role == "" {
			role = "(no role)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", role, g.Action, g.Resource)
	}
	return tw.Flush()
}
