// Package report writes what a scan found for people (a table) and for
// tools (JSON, SARIF 2.1.0), and decides whether the scan failed.
//
// Writers stream: a finding is written when it is found and not kept,
// so that a report over any number of objects takes bounded memory. Only
// the objects that were skipped, with the reason, are kept until the end,
// for the summary.
package report

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/securecart/securecart/internal/scan"
)

// Formats are the report formats New knows.
var Formats = []string{"table", "json", "sarif"}

// Writer receives a scan's findings and objects as they come, then the
// end of the scan.
type Writer interface {
	Finding(scan.Finding) error
	Object(scan.Object) error
	// Close writes what is left, such as the summary.
	Close() error
	// Summary returns the counts so far.
	Summary() *Summary
}

// Summary counts what a scan found.
type Summary struct {
	Objects     int            `json:"objects"`
	Bytes       int64          `json:"bytes"`
	Findings    int            `json:"findings"`
	BySeverity  map[string]int `json:"by_severity"`
	ByDetector  map[string]int `json:"by_detector"`
	Skipped     []scan.Object  `json:"skipped,omitempty"`
	maxSeverity int
}

func newSummary() *Summary {
	return &Summary{BySeverity: map[string]int{}, ByDetector: map[string]int{}}
}

func (s *Summary) finding(f scan.Finding) {
	s.Findings++
	s.BySeverity[f.Severity]++
	s.ByDetector[f.Detector]++
	s.maxSeverity = max(s.maxSeverity, scan.SeverityRank(f.Severity))
}

func (s *Summary) object(o scan.Object) {
	s.Objects++
	s.Bytes += o.Bytes
	if o.Skipped != "" {
		s.Skipped = append(s.Skipped, o)
	}
}

// FoundError is the error of a scan that found something at or above the
// severity it was to fail on.
type FoundError struct {
	Count    int
	Severity string
}

func (e *FoundError) Error() string {
	return fmt.Sprintf("scan found %d findings at or above %s severity", e.Count, e.Severity)
}

// Check returns a *FoundError when s holds a finding at or above
// severity failOn, and nil otherwise or when failOn is "none".
func (s *Summary) Check(failOn string) error {
	if failOn == "none" {
		return nil
	}
	rank := scan.SeverityRank(failOn)
	if rank == 0 {
		return fmt.Errorf("check findings: unknown severity %q (high, medium, low, none)", failOn)
	}
	n := 0
	for sev, c := range s.BySeverity {
		if scan.SeverityRank(sev) >= rank {
			n += c
		}
	}
	if n == 0 {
		return nil
	}
	return &FoundError{Count: n, Severity: failOn}
}

// Rule describes a detector for the reports that list them.
type Rule struct {
	ID       string
	Severity string
	Text     string
}

// Rules returns the rules of the built-in detectors and of custom ones.
func Rules(custom []*scan.Custom) []Rule {
	var out []Rule
	for _, d := range scan.Detectors() {
		out = append(out, Rule{ID: d, Severity: scan.DetectorSeverity(d), Text: scan.Describe(d)})
	}
	for _, c := range custom {
		out = append(out, Rule{ID: c.Name, Severity: c.Severity, Text: "custom detector " + c.Name})
	}
	return out
}

// New returns a Writer of format ("table", "json" or "sarif") to w.
func New(format string, w io.Writer, rules []Rule, version string) (Writer, error) {
	switch format {
	case "table":
		return newTable(w), nil
	case "json":
		return newJSON(w), nil
	case "sarif":
		return newSARIF(w, rules, version), nil
	}
	return nil, fmt.Errorf("new report: unknown format %q (%s)", format, strings.Join(Formats, ", "))
}

// sortedKeys returns the keys of m, ordered.
func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
