package server

import (
	"net/http"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/policy/cases"
)

// POST /v1/policies/check is policy validate, diff and test over the API: it
// validates a candidate set, analyzes it, compares it with a stored version
// (the active one by default) and decides the cases of a cases file against
// it, and changes nothing. It is one runAnalyzer decision, so the security
// team can check a set before anyone with MFA applies it. A cases file's
// own "policies" key is ignored here: the cases run against the candidate
// set.

type policyCheckIn struct {
	Source string `json:"source"`
	// Against is the stored version to compare with; the active one if
	// absent.
	Against *int64 `json:"against"`
	// Cases is a cases file (YAML), as policy test reads.
	Cases string `json:"cases"`
}

// PolicyCheckView answers a check.
type PolicyCheckView struct {
	Policies []policy.Info     `json:"policies"`
	Findings []analyze.Finding `json:"findings"`
	Blocking bool              `json:"blocking"`
	Against  int64             `json:"against"`
	Changes  PolicyChangesView `json:"changes"`
	Cells    analyze.Diff      `json:"cells"`
	Cases    []CaseOutcomeView `json:"cases"`
	Failed   int               `json:"cases_failed"`
}

// PolicyChangesView names the policies a candidate adds, removes and
// changes, by @id.
type PolicyChangesView struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
	Changed []string `json:"changed"`
}

// CaseOutcomeView is one case of a cases file decided against the
// candidate set.
type CaseOutcomeView struct {
	Name     string   `json:"name"`
	Expect   string   `json:"expect"`
	Decision string   `json:"decision"`
	Policies []string `json:"policies"`
	// Problem says why the case failed; absent when it passed.
	Problem string `json:"problem,omitempty"`
}

func (a *API) checkPolicies(c *call) {
	var in policyCheckIn
	if p, ok := decodePolicyBody(c.r, &in); !ok {
		c.problem(p)
		return
	}
	if !a.policies(c, policy.RunAnalyzer) {
		return
	}
	set, err := policy.Load([]byte(in.Source))
	if err != nil {
		c.problem(ProblemPolicyInvalid.With(err.Error(), "source"))
		return
	}
	var cf *cases.File
	if in.Cases != "" {
		if cf, err = cases.Parse([]byte(in.Cases)); err != nil {
			c.problem(ProblemInvalid.With(err.Error(), "cases"))
			return
		}
	}
	against := a.activeVersion()
	if in.Against != nil {
		against = *in.Against
	}
	old, err := a.d.Policies.Get(c.ctx, against)
	if err != nil {
		a.policyProblem(c, err)
		return
	}
	before, err := policy.Load(old.Source)
	if err != nil {
		a.storeProblem(c, err)
		return
	}

	report, err := analyze.Analyze(set)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	diff, err := analyze.Compare(before, set)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	added, removed, changed := analyze.PolicyChanges(before, set)
	out := PolicyCheckView{Policies: set.Policies, Findings: report.Findings, Blocking: len(report.Blocking()) > 0,
		Against: against, Cells: *diff, Cases: []CaseOutcomeView{},
		Changes: PolicyChangesView{Added: nonNilIDs(added), Removed: nonNilIDs(removed), Changed: nonNilIDs(changed)}}
	if cf != nil {
		for _, r := range cases.Run(set.Engine, cf) {
			o := CaseOutcomeView{Name: r.Case.Name, Expect: r.Case.Expect, Decision: "deny",
				Policies: nonNilIDs(r.Decision.Policies), Problem: r.Problem}
			if r.Decision.Allow {
				o.Decision = "allow"
			}
			if r.Problem != "" {
				out.Failed++
			}
			out.Cases = append(out.Cases, o)
		}
	}
	c.json(http.StatusOK, out)
}

func nonNilIDs(ids []string) []string {
	if ids == nil {
		return []string{}
	}
	return ids
}
