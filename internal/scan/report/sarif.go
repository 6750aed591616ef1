package report

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/securecart/securecart/internal/scan"
)

const sarifSchema = "https://json.schemastore.org/sarif-2.1.0.json"

// sarif writes a SARIF 2.1.0 log of one run, streaming its results.
type sarif struct {
	w   *bufio.Writer
	sum *Summary
	n   int
	err error
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string       `json:"id"`
	Name                 string       `json:"name"`
	ShortDescription     sarifMessage `json:"shortDescription"`
	DefaultConfiguration struct {
		Level string `json:"level"`
	} `json:"defaultConfiguration"`
}

type sarifResult struct {
	RuleID     string          `json:"ruleId"`
	Level      string          `json:"level"`
	Message    sarifMessage    `json:"message"`
	Locations  []sarifLocation `json:"locations"`
	Properties struct {
		Severity   string  `json:"severity"`
		Confidence float64 `json:"confidence"`
		Sample     string  `json:"sample"`
	} `json:"properties"`
}

type sarifLocation struct {
	PhysicalLocation struct {
		ArtifactLocation struct {
			URI string `json:"uri"`
		} `json:"artifactLocation"`
		Region struct {
			StartLine   int   `json:"startLine"`
			StartColumn int   `json:"startColumn"`
			ByteOffset  int64 `json:"byteOffset"`
			ByteLength  int   `json:"byteLength"`
		} `json:"region"`
	} `json:"physicalLocation"`
}

type sarifNotification struct {
	Level   string       `json:"level"`
	Message sarifMessage `json:"message"`
}

// level maps a severity to a SARIF result level.
func level(severity string) string {
	switch severity {
	case scan.SeverityHigh:
		return "error"
	case scan.SeverityMedium:
		return "warning"
	}
	return "note"
}

func newSARIF(w io.Writer, rules []Rule, version string) *sarif {
	s := &sarif{w: bufio.NewWriter(w), sum: newSummary()}
	rs := make([]sarifRule, len(rules))
	for i, r := range rules {
		rs[i].ID, rs[i].Name = r.ID, r.ID
		rs[i].ShortDescription.Text = r.Text
		rs[i].DefaultConfiguration.Level = level(r.Severity)
	}
	driver := map[string]any{
		"name":            "securecart scan",
		"semanticVersion": version,
		"rules":           rs,
	}
	head, err := json.Marshal(map[string]any{"driver": driver})
	if err != nil {
		s.err = err
		return s
	}
	s.write(fmt.Sprintf(`{"$schema":%q,"version":"2.1.0","runs":[{"tool":%s,"results":[`, sarifSchema, head))
	return s
}

func (s *sarif) write(text string) {
	if s.err == nil {
		_, s.err = s.w.WriteString(text)
	}
}

func (s *sarif) Finding(f scan.Finding) error {
	s.sum.finding(f)
	var r sarifResult
	r.RuleID, r.Level = f.Detector, level(f.Severity)
	r.Message.Text = fmt.Sprintf("%s found: %s (confidence %.2f)", f.Detector, f.Sample, f.Confidence)
	r.Properties.Severity, r.Properties.Confidence, r.Properties.Sample = f.Severity, f.Confidence, f.Sample
	var loc sarifLocation
	loc.PhysicalLocation.ArtifactLocation.URI = artifactURI(f.Object)
	reg := &loc.PhysicalLocation.Region
	reg.StartLine, reg.StartColumn, reg.ByteOffset, reg.ByteLength = f.Line, f.Column, f.Offset, f.Length
	r.Locations = []sarifLocation{loc}

	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if s.n > 0 {
		s.write(",")
	}
	s.write("\n")
	s.write(string(b))
	s.n++
	return s.err
}

// artifactURI writes an object name as a relative URI reference: a path
// with forward slashes and reserved characters escaped.
func artifactURI(name string) string {
	if strings.Contains(name, "://") {
		return name
	}
	p := filepath.ToSlash(name)
	var b strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"%<>\^`+"`{|}#?[]", c) >= 0 {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func (s *sarif) Object(o scan.Object) error {
	s.sum.object(o)
	return s.err
}

func (s *sarif) Summary() *Summary { return s.sum }

func (s *sarif) Close() error {
	notes := make([]sarifNotification, 0, len(s.sum.Skipped))
	for _, o := range s.sum.Skipped {
		notes = append(notes, sarifNotification{Level: "note",
			Message: sarifMessage{Text: "skipped " + o.Name + ": " + o.Skipped}})
	}
	inv := []map[string]any{{
		"executionSuccessful":        true,
		"toolExecutionNotifications": notes,
	}}
	b, err := json.Marshal(inv)
	if err != nil {
		return err
	}
	s.write("\n],\"invocations\":")
	s.write(string(b))
	s.write("}]}\n")
	if s.err == nil {
		s.err = s.w.Flush()
	}
	return s.err
}
