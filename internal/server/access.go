package server

import (
	"net/http"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
)

// AnalysisView is the access analysis of the active policy set.
type AnalysisView struct {
	Version int64 `json:"version"`
	*analyze.Report
}

// accessAnalysis runs the analyzer on the active policy set: the
// effective permission matrix and the guardrail findings.
func (a *API) accessAnalysis(c *call) {
	if a.d.Policies == nil {
		c.problem(ProblemUnavailable)
		return
	}
	if !a.allowed(c, policy.RunAnalyzer, policiesRes) {
		c.problem(ProblemForbidden)
		return
	}
	n, set := a.d.Policies.Live().Active()
	if set == nil {
		c.problem(ProblemUnavailable)
		return
	}
	r, err := analyze.Analyze(set)
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, AnalysisView{Version: n, Report: r})
}
