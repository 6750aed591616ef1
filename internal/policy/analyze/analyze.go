package analyze

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/securecart/securecart/internal/policy"
)

// Report is the analysis of one policy set.
type Report struct {
	Identity  []string  `json:"identity_policies"`
	Resource  []string  `json:"resource_policies"`
	Matrix    *Matrix   `json:"matrix"`
	Findings  []Finding `json:"findings"`
	Decisions int       `json:"decisions"`
}

// Blocking returns the findings that make policy apply refuse the set.
func (r *Report) Blocking() []Finding {
	var out []Finding
	for _, f := range r.Findings {
		if f.Blocking {
			out = append(out, f)
		}
	}
	return out
}

// Analyze builds the matrix of set and checks every guardrail.
func Analyze(set *policy.Set) (*Report, error) {
	m, err := Build(set, nil, nil)
	if err != nil {
		return nil, err
	}
	r := &Report{Matrix: m, Identity: []string{}, Resource: []string{}, Findings: []Finding{}}
	for _, p := range set.Policies {
		if p.Attached != "" {
			r.Resource = append(r.Resource, p.ID)
		} else {
			r.Identity = append(r.Identity, p.ID)
		}
	}
	r.Findings = append(r.Findings, structural(set)...)
	r.Findings = append(r.Findings, fromMatrix(set, m)...)
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return slices.Index(Rules, a.Rule) - slices.Index(Rules, b.Rule)
	})
	r.Decisions = len(m.Rows) * len(m.Variants)
	return r, nil
}

// Diff is what changes between two sets' matrices, built over the same
// roles and networks.
type Diff struct {
	Added   []Cell `json:"newly_allowed"`
	Removed []Cell `json:"newly_denied"`
}

// Compare builds both matrices over the union of what the sets name and
// returns the cells whose answer differs.
func Compare(before, after *policy.Set) (*Diff, error) {
	roles, nets := rolesAndNetworks(before, after)
	a, err := Build(before, roles, nets)
	if err != nil {
		return nil, err
	}
	b, err := Build(after, roles, nets)
	if err != nil {
		return nil, err
	}
	d := &Diff{Added: []Cell{}, Removed: []Cell{}}
	for i, rb := range b.Rows {
		ra := a.Rows[i]
		for j := range rb.Cells {
			switch {
			case rb.Cells[j] == 'Y' && ra.Cells[j] != 'Y':
				d.Added = append(d.Added, rb.cell(b.Variants[j]))
			case ra.Cells[j] == 'Y' && rb.Cells[j] != 'Y':
				d.Removed = append(d.Removed, ra.cell(a.Variants[j]))
			}
		}
	}
	return d, nil
}

// WriteTable prints the matrix as a table: one line per principal and
// target, one column per variant, rows that allow nothing left out.
func (m *Matrix) WriteTable(w io.Writer) error {
	fmt.Fprintln(w, "Variants (columns):")
	for i, v := range m.Variants {
		fmt.Fprintf(w, "  %3d  %s\n", i+1, v)
	}
	fmt.Fprintln(w, "Cells: Y allowed, . denied, - not applicable (MFA for a principal that is not a person).")
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROLE\tKIND\tACTION\tRESOURCE\tCELLS")
	for _, r := range m.Rows {
		if !strings.Contains(r.Cells, "Y") {
			continue
		}
		role, res := r.Role, r.Resource
		if role == "" {
			role = "-"
		}
		if r.Owner != "" {
			res += "[" + r.Owner + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", role, r.Kind, r.Action, res, r.Cells)
	}
	return tw.Flush()
}

// WriteFindings prints the findings, one paragraph each.
func WriteFindings(w io.Writer, fs []Finding) {
	if len(fs) == 0 {
		fmt.Fprintln(w, "No guardrail findings.")
		return
	}
	for _, f := range fs {
		mark := ""
		if f.Blocking {
			mark = " (blocking: policy apply refuses the set)"
		}
		fmt.Fprintf(w, "%s%s: %s\n", f.Rule, mark, f.Detail)
		if len(f.Policies) > 0 {
			fmt.Fprintf(w, "  policies: %s\n", strings.Join(f.Policies, ", "))
		}
		for i, c := range f.Cells {
			if i == 3 {
				fmt.Fprintf(w, "  ... and %d more contexts\n", len(f.Cells)-i)
				break
			}
			fmt.Fprintf(w, "  in %s\n", c.Variant)
		}
	}
}

// PolicyChanges lists, by @id, the policies after has and before has not,
// those before has and after has not, and those whose text differs.
func PolicyChanges(before, after *policy.Set) (added, removed, changed []string) {
	old := map[string]string{}
	for _, p := range before.Policies {
		old[p.ID] = p.Text
	}
	seen := map[string]bool{}
	for _, p := range after.Policies {
		seen[p.ID] = true
		text, ok := old[p.ID]
		switch {
		case !ok:
			added = append(added, p.ID)
		case text != p.Text:
			changed = append(changed, p.ID)
		}
	}
	for _, p := range before.Policies {
		if !seen[p.ID] {
			removed = append(removed, p.ID)
		}
	}
	return added, removed, changed
}
