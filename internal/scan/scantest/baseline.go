package scantest

import "regexp"

// Span is a detection as the baseline reports it.
type Span struct {
	Detector   string
	Start, End int
}

// baseline is one Go regular expression per detector, the way the
// detectors would be written without a prefilter: each runs over the
// whole text. A card match is then checked with Luhn, as a card pattern
// needs to be.
var baseline = []struct {
	detector string
	re       *regexp.Regexp
	group    int
}{
	{"card", regexp.MustCompile(`\b(?:\d{4}[ -]?){2}\d{4}[ -]?\d{1,7}\b|\b\d{4}[ -]?\d{6}[ -]?\d{4,5}\b`), 0},
	{"email", regexp.MustCompile(`[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}`), 0},
	{"phone", regexp.MustCompile(`\+[1-9](?:[ ()-]{0,2}\d){7,14}|(?i:phone|tel|mobile|call|contact|sms)[^0-9\n]{0,30}(\(?\d{2,5}\)?(?:[ .-]?\d{2,4}){2,4})`), 0},
	{"ssn", regexp.MustCompile(`\b\d{3}([ -])\d{2}([ -])\d{4}\b`), 0},
	{"iban", regexp.MustCompile(`\b[A-Z]{2}\d{2}(?:[ -]?[A-Z0-9]{4}){2,7}(?:[ -]?[A-Z0-9]{1,3})?\b`), 0},
	{"ipv4", regexp.MustCompile(`\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b`), 0},
	{"ipv6", regexp.MustCompile(`(?i)\b(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}\b|\b(?:[0-9a-f]{1,4}:){1,6}(?::[0-9a-f]{1,4}){1,6}\b`), 0},
	{"api_key", regexp.MustCompile(`\bsck_[a-z2-7]{12}_[A-Za-z0-9_-]{43}\b`), 0},
	{"bearer", regexp.MustCompile(`(?i)\bbearer[ \t]+([A-Za-z0-9._~+/-]{8,}=*)`), 1},
	{"aws_access_key", regexp.MustCompile(`\b(?:AKIA|ASIA)[A-Z0-9]{16}\b`), 0},
	{"aws_secret_key", regexp.MustCompile(`(?i)(?:aws_?secret_?(?:access_?)?key|secretaccesskey)["' :=\t]{1,8}([A-Za-z0-9/+]{40})\b`), 1},
	{"jwt", regexp.MustCompile(`\bey[A-Za-z0-9_-]+\.ey[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*`), 0},
	{"url_password", regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://[^:/\s@]+:([^@/\s"]+)@`), 1},
	{"private_key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----`), 0},
}

// BaselineFind runs the regexp baseline over text.
func BaselineFind(text []byte) []Span {
	var out []Span
	for _, d := range baseline {
		for _, loc := range d.re.FindAllSubmatchIndex(text, -1) {
			start, end := loc[0], loc[1]
			if d.group > 0 && loc[2*d.group] >= 0 {
				start, end = loc[2*d.group], loc[2*d.group+1]
			}
			if d.detector == "card" && !luhnOK(text[start:end]) {
				continue
			}
			out = append(out, Span{d.detector, start, end})
		}
	}
	return out
}

func luhnOK(v []byte) bool {
	sum, double, n := 0, false, 0
	for k := len(v) - 1; k >= 0; k-- {
		c := v[k]
		if c < '0' || c > '9' {
			continue
		}
		d := int(c - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum, double, n = sum+d, !double, n+1
	}
	return n > 0 && sum%10 == 0
}

// Recall returns the share of labels that a span of their detector
// overlaps, and the labels of detector (all of them if "") it counted.
func Recall(labels []Label, spans []Span, detector string) (float64, int) {
	byDet := map[string][]Span{}
	for _, s := range spans {
		byDet[s.Detector] = append(byDet[s.Detector], s)
	}
	found, total := 0, 0
	for _, l := range labels {
		if detector != "" && l.Detector != detector {
			continue
		}
		total++
		for _, s := range byDet[l.Detector] {
			if s.Start < l.Offset+l.Length && l.Offset < s.End {
				found++
				break
			}
		}
	}
	if total == 0 {
		return 1, 0
	}
	return float64(found) / float64(total), total
}
