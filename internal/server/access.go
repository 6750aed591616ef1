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

// accessAnalysis serves the analysis of the active policy set: the
// effective permission matrix and the guardrail findings. It is computed
// once per version.
func (a *API) accessAnalysis(c *call) {
	if a.d.Policies == nil {
		c.problem(ProblemUnavailable)
		return
	}
	if !a.allowed(c, policy.RunAnalyzer, policiesRes) {
		c.problem(ProblemForbidden)
		return
	}
	n, r, err := a.d.Policies.Live().Analysis()
	if err != nil {
		a.storeProblem(c, err)
		return
	}
	c.json(http.StatusOK, AnalysisView{Version: n, Report: r})
}
