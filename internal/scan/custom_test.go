package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// customFound scans text with one custom detector and only it, and
// returns the values it matched.
func customFound(t *testing.T, c *Custom, text string) []string {
	t.Helper()
	sc := mustScanner(t, Options{Detectors: SetIPv4, Custom: []*Custom{c}})
	var got []string
	for _, f := range sc.Text("t", []byte(text)) {
		if f.Detector == c.Name {
			got = append(got, text[f.Offset:f.Offset+int64(f.Length)])
		}
	}
	return got
}

func TestCustomKeywordsWithinDistance(t *testing.T) {
	c := &Custom{Name: "employee_id", Prefix: "EMP-", Pattern: `EMP-[0-9]{6}`,
		Keywords: []string{"Employee", "staff"}, Distance: 20}
	for text, want := range map[string]string{
		"employee EMP-123456":                                 "EMP-123456",
		"STAFF no. EMP-123456":                                "EMP-123456",
		"employee " + strings.Repeat(".", 20) + " EMP-123456": "",
		"EMP-123456 employee":                                 "", // the keyword must come before
		"subemployee EMP-123456":                              "", // and start a word
		"ref EMP-123456":                                      "",
	} {
		got := strings.Join(customFound(t, c, text), ",")
		if got != want {
			t.Errorf("%q: found %q, want %q", text, got, want)
		}
	}

	// Without a prefix the expression runs over the whole text; without
	// keywords every match counts.
	c = &Custom{Name: "ticket", Pattern: `TCK[0-9]{4}`, Severity: SeverityLow}
	if got := customFound(t, c, "see TCK1234 and TCK5678, not TCK12"); strings.Join(got, ",") != "TCK1234,TCK5678" {
		t.Errorf("no prefix: found %v", got)
	}
}

func TestCustomValidators(t *testing.T) {
	cases := []struct {
		validator, pattern string
		valid, invalid     string
	}{
		{"luhn", `acct-[0-9]{10}`, "acct-1234567897", "acct-1234567890"},
		{"card", `card#[0-9]{16}`, "card#4539148803436467", "card#1234567812345670"}, // Luhn-valid, no brand
		{"iban", `iban:([A-Z0-9]{15,34})`, "GB29NWBK60161331926819", "GB28NWBK60161331926819"},
		{"ssn", `id [0-9]{3}-[0-9]{2}-[0-9]{4}`, "id 123-45-6789", "id 666-45-6789"},
	}
	for _, tc := range cases {
		c := &Custom{Name: "x_" + tc.validator, Pattern: tc.pattern, Validator: tc.validator}
		pre := ""
		if tc.validator == "iban" {
			pre = "iban:" // outside the pattern's group
		}
		if got := customFound(t, c, "a "+pre+tc.valid+" b"); len(got) != 1 || got[0] != tc.valid {
			t.Errorf("%s: %q found as %v, want it", tc.validator, tc.valid, got)
		}
		if got := customFound(t, c, "a "+pre+tc.invalid+" b"); len(got) != 0 {
			t.Errorf("%s: %q found as %v, want nothing", tc.validator, tc.invalid, got)
		}
	}
}

func TestCustomRejected(t *testing.T) {
	for name, c := range map[string]*Custom{
		"built-in name":     {Name: DetectorCard, Pattern: `x`},
		"no name":           {Pattern: `x`},
		"unknown validator": {Name: "a", Pattern: `x`, Validator: "crc"},
		"unknown severity":  {Name: "a", Pattern: `x`, Severity: "urgent"},
		"bad expression":    {Name: "a", Pattern: `(x`},
	} {
		if _, err := NewScanner(Options{Custom: []*Custom{c}}); err == nil {
			t.Errorf("%s: NewScanner accepted %+v", name, c)
		}
	}
}

// TestLoadConfigCustom reads custom detectors from a configuration file
// and refuses fields it does not know.
func TestLoadConfigCustom(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "scan.json")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"detectors": ["email"], "min_confidence": 0.6,
		"custom": [{"name": "loyalty", "severity": "high", "pattern": "LC[0-9]{12}",
		            "keywords": ["loyalty"], "distance": 30, "validator": "luhn"}]}`)
	opts, err := LoadConfig(file)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Detectors != SetEmail || opts.MinConfidence != 0.6 || len(opts.Custom) != 1 {
		t.Fatalf("options = %+v", opts)
	}
	sc := mustScanner(t, opts)
	got := sc.Text("t", []byte("loyalty card LC123456789015 for a@example.com; loyalty LC123456789016"))
	if len(got) != 2 || got[0].Detector != "loyalty" || got[0].Severity != SeverityHigh || got[1].Detector != DetectorEmail {
		t.Errorf("findings = %+v", got)
	}

	write(`{"custom": [{"name": "a", "pattern": "x", "keyword": ["typo"]}]}`)
	if _, err := LoadConfig(file); err == nil {
		t.Error("LoadConfig accepted an unknown field")
	}
}
