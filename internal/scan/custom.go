package scan

import (
	"bytes"
	"fmt"
	"regexp"
)

const (
	maxCustomMatch    = 256 // bytes a custom pattern may match from a candidate
	defaultKeywordGap = 40
)

// Custom is a detector defined by configuration rather than code.
type Custom struct {
	// Name is the detector name findings report; it must not be a
	// built-in one.
	Name     string `json:"name"`
	Severity string `json:"severity"`
	// Prefix, a literal, is where a match starts. With a prefix, the
	// pattern is tried only at its occurrences, which a byte search
	// finds; without one it runs over the whole text, which is much
	// slower (a regular expression is some 100 times slower than the
	// built-in detectors).
	Prefix string `json:"prefix,omitempty"`
	// Pattern is a Go regular expression (RE2 syntax). When it has a
	// group, the first group's text is the value: the validator checks
	// it and the finding covers it ("iban: ?([A-Z0-9 ]+)"); otherwise
	// the whole match is.
	Pattern string `json:"pattern"`
	// Keywords, when given, must occur (as words, ignoring case) within
	// Distance bytes before the match.
	Keywords []string `json:"keywords,omitempty"`
	Distance int      `json:"distance,omitempty"`
	// Validator is one of the built-in checks: luhn, card, iban, ssn.
	Validator  string  `json:"validator,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`

	re       *regexp.Regexp
	keywords []string
}

// compile checks c and prepares it.
func (c *Custom) compile() error {
	if c.Name == "" || setOf(c.Name) != 0 {
		return fmt.Errorf("custom detector %q: need a name that no built-in detector has", c.Name)
	}
	if c.Severity == "" {
		c.Severity = SeverityMedium
	}
	if SeverityRank(c.Severity) == 0 {
		return fmt.Errorf("custom detector %q: unknown severity %q", c.Name, c.Severity)
	}
	if c.Validator != "" && validators[c.Validator] == nil {
		return fmt.Errorf("custom detector %q: unknown validator %q (luhn, card, iban, ssn)", c.Name, c.Validator)
	}
	expr := c.Pattern
	if c.Prefix != "" {
		expr = "^(?:" + expr + ")"
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return fmt.Errorf("custom detector %q: %w", c.Name, err)
	}
	c.re = re
	if c.Distance <= 0 {
		c.Distance = defaultKeywordGap
	}
	if c.Confidence <= 0 || c.Confidence > 1 {
		c.Confidence = 0.7
	}
	c.keywords = make([]string, len(c.Keywords))
	for i, k := range c.Keywords {
		c.keywords[i] = string(bytes.ToLower([]byte(k)))
	}
	return nil
}

// find returns the matches of c in text.
func (c *Custom) find(text []byte) []Match {
	var out []Match
	add := func(start, end int) {
		if end <= start {
			return
		}
		if len(c.keywords) > 0 && !anyWord(text, max(0, start-c.Distance), start, c.keywords) {
			return
		}
		if v := validators[c.Validator]; v != nil && !v(text[start:end]) {
			return
		}
		out = append(out, Match{Detector: c.Name, Start: start, End: end,
			Severity: c.Severity, Confidence: c.Confidence})
	}

	if c.Prefix == "" {
		for _, loc := range c.re.FindAllSubmatchIndex(text, -1) {
			start, end := c.value(loc)
			add(start, end)
		}
		return out
	}
	for from := 0; from < len(text); {
		k := bytes.Index(text[from:], []byte(c.Prefix))
		if k < 0 {
			break
		}
		k += from
		if loc := c.re.FindSubmatchIndex(text[k:min(len(text), k+maxCustomMatch)]); loc != nil {
			start, end := c.value(loc)
			add(k+start, k+end)
		}
		from = k + 1
	}
	return out
}

// value returns the span of the value in a match: the first group when
// the pattern has one and it matched, else the whole match.
func (c *Custom) value(loc []int) (int, int) {
	if len(loc) >= 4 && loc[2] >= 0 {
		return loc[2], loc[3]
	}
	return loc[0], loc[1]
}

// validators are the built-in checks a custom detector may name.
var validators = map[string]func([]byte) bool{
	"luhn": func(v []byte) bool {
		d := digitsOf(v)
		return len(d) > 1 && luhn(d)
	},
	"card": func(v []byte) bool {
		d := digitsOf(v)
		return len(d) >= minCardDigits && len(d) <= maxCardDigits && luhn(d) && brand(d) != ""
	},
	"iban": func(v []byte) bool {
		b := []byte(Canonical(DetectorIBAN, string(v)))
		if len(b) < minIBAN || len(b) > maxIBAN {
			return false
		}
		n, ok := ibanLengths[[2]byte{b[0], b[1]}]
		return ok && n == len(b) && mod97(b)
	},
	"ssn": func(v []byte) bool {
		d := digitsOf(v)
		return len(d) == 9 && validSSN([9]byte(d))
	},
}

func digitsOf(v []byte) []byte {
	var d []byte
	for _, c := range v {
		if is(c, cDigit) {
			d = append(d, c)
		}
	}
	return d
}
