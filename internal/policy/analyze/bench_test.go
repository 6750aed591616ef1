package analyze

import (
	"testing"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/policygen"
)

// benchAnalyze measures a whole analysis: loading the set (parse,
// validation, index), the matrix and every guardrail.
func benchAnalyze(b *testing.B, src []byte) {
	var decisions int
	for b.Loop() {
		s, err := policy.Load(src)
		if err != nil {
			b.Fatal(err)
		}
		r, err := Analyze(s)
		if err != nil {
			b.Fatal(err)
		}
		decisions = r.Decisions
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/analysis")
	b.ReportMetric(float64(decisions), "decisions")
}

func BenchmarkAnalyzeDefault(b *testing.B) {
	benchAnalyze(b, policy.DefaultPolicies())
}

func BenchmarkAnalyze1000(b *testing.B) {
	benchAnalyze(b, policygen.New(1).Text(1000))
}

// TestGeneratedSetAnalyzes checks that the benchmark's set loads and that
// its generated roles show up as unknown.
func TestGeneratedSetAnalyzes(t *testing.T) {
	s, err := policy.Load(policygen.New(1).Text(1000))
	if err != nil {
		t.Fatal(err)
	}
	r, err := Analyze(s)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Identity) != 1000 || len(r.Matrix.Roles) <= len(policy.KnownRoles()) {
		t.Fatalf("%d policies, roles %v", len(r.Identity), r.Matrix.Roles)
	}
	found := false
	for _, f := range r.Findings {
		found = found || f.Rule == RuleUnknownRole
	}
	if !found {
		t.Fatal("no unknown-role finding for the generated roles")
	}
}
