package report

import (
	"bufio"
	"fmt"
	"io"

	"github.com/securecart/securecart/internal/scan"
)

// table writes one finding per line in fixed columns, then a summary.
type table struct {
	w       *bufio.Writer
	sum     *Summary
	started bool
	err     error
}

func newTable(w io.Writer) *table {
	return &table{w: bufio.NewWriter(w), sum: newSummary()}
}

func (t *table) printf(format string, args ...any) {
	if t.err == nil {
		_, t.err = fmt.Fprintf(t.w, format, args...)
	}
}

func (t *table) Finding(f scan.Finding) error {
	if !t.started {
		t.printf("%-8s %-16s %-5s %-26s %s\n", "SEVERITY", "DETECTOR", "CONF", "SAMPLE", "LOCATION")
		t.started = true
	}
	t.sum.finding(f)
	t.printf("%-8s %-16s %-5.2f %-26s %s:%d:%d\n", f.Severity, f.Detector, f.Confidence,
		f.Sample, f.Object, f.Line, f.Column)
	return t.err
}

func (t *table) Object(o scan.Object) error {
	t.sum.object(o)
	return t.err
}

func (t *table) Summary() *Summary { return t.sum }

func (t *table) Close() error {
	s := t.sum
	if t.started {
		t.printf("\n")
	}
	t.printf("%d findings in %d objects (%s of text)", s.Findings, s.Objects, sizeText(s.Bytes))
	for _, sev := range []string{scan.SeverityHigh, scan.SeverityMedium, scan.SeverityLow} {
		if n := s.BySeverity[sev]; n > 0 {
			t.printf(", %d %s", n, sev)
		}
	}
	t.printf("\n")
	for _, d := range sortedKeys(s.ByDetector) {
		t.printf("  %-16s %d\n", d, s.ByDetector[d])
	}
	for _, o := range s.Skipped {
		t.printf("skipped %s: %s\n", o.Name, o.Skipped)
	}
	if t.err == nil {
		t.err = t.w.Flush()
	}
	return t.err
}

func sizeText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
