package report

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/scan"
)

var findings = []scan.Finding{
	{Detector: "card", Severity: "high", Confidence: 0.95, Object: "a.log", Line: 3, Column: 7, Sample: "••••1111"},
	{Detector: "ipv4", Severity: "low", Confidence: 0.7, Object: "a.log", Line: 4, Column: 1, Sample: "10.•.•.•"},
}

func write(t *testing.T, format string) (string, *Summary) {
	t.Helper()
	var b bytes.Buffer
	w, err := New(format, &b, Rules(nil), "test")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range findings {
		if err := w.Finding(f); err != nil {
			t.Fatal(err)
		}
	}
	w.Object(scan.Object{Name: "a.log", Bytes: 100, Findings: 2})
	w.Object(scan.Object{Name: "b.bin", Skipped: "binary content"})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.String(), w.Summary()
}

func TestTable(t *testing.T) {
	out, _ := write(t, "table")
	want := `SEVERITY DETECTOR         CONF  SAMPLE                     LOCATION
high     card             0.95  ••••1111                   a.log:3:7
low      ipv4             0.70  10.•.•.•                   a.log:4:1

2 findings in 2 objects (100 B of text), 1 high, 1 low
  card             1
  ipv4             1
skipped b.bin: binary content
`
	if out != want {
		t.Errorf("table:\n%s\nwant:\n%s", out, want)
	}
}

func TestCheck(t *testing.T) {
	_, sum := write(t, "json")
	for failOn, want := range map[string]int{"high": 1, "medium": 1, "low": 2, "none": 0} {
		err := sum.Check(failOn)
		var fe *FoundError
		switch {
		case want == 0 && err != nil:
			t.Errorf("Check(%s) = %v, want nil", failOn, err)
		case want > 0 && (!errors.As(err, &fe) || fe.Count != want):
			t.Errorf("Check(%s) = %v, want %d findings", failOn, err, want)
		}
	}
	if err := sum.Check("severe"); err == nil || errors.As(err, new(*FoundError)) {
		t.Errorf("Check(severe) = %v, want a usage error", err)
	}
}

func TestArtifactURI(t *testing.T) {
	for in, want := range map[string]string{
		"logs/app.log":              "logs/app.log",
		"my logs/a#1.log":           "my%20logs/a%231.log",
		"objstore://logs/app/x.log": "objstore://logs/app/x.log",
	} {
		if got := artifactURI(in); got != want {
			t.Errorf("artifactURI(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestUnknownFormat(t *testing.T) {
	if _, err := New("xml", &bytes.Buffer{}, nil, ""); err == nil || !strings.Contains(err.Error(), "table") {
		t.Errorf("New(xml) = %v", err)
	}
}
