package main

import "fmt"

// analyzer writes the access analyzer's time per analysis: the default
// set and 1,000 generated policies, each against its target.
func (r *report) analyzer() {
	w := r.w
	fmt.Fprintf(w, "## Access analyzer\n\n")
	fmt.Fprintf(w, "One whole analysis: parse and validate the set, build its engine, evaluate the permission\n"+
		"matrix (every role as person and service, every action and resource, every context variant) and\n"+
		"check every guardrail. The 1,000 policies are internal/policy/policygen's, seed 1; their extra\n"+
		"roles and networks enlarge the matrix. Reproduce with `make bench-analyzer`.\n\n")
	fmt.Fprintf(w, "| policy set | decisions | seconds per analysis | target | |\n|---|---|---|---|---|\n")
	rows := []struct {
		label, name string
		target      float64
	}{
		{"default set", "BenchmarkAnalyzeDefault", 1},
		{"1,000 generated policies", "BenchmarkAnalyze1000", 10},
	}
	for _, row := range rows {
		s, ok := r.get(row.name, "s/analysis")
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | under %g s | |\n", row.label, row.target)
			continue
		}
		d, _ := r.get(row.name, "decisions")
		verdict := "missed"
		if s < row.target {
			verdict = "met"
		}
		fmt.Fprintf(w, "| %s | %s | %s | under %g s | %s |\n", row.label, num(d), num(s), row.target, verdict)
	}
	fmt.Fprintln(w)
}
