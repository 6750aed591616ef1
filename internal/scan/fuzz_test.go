package scan

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// leaky are the detectors whose matched text must never survive Redact:
// long, structured values, so that finding their text again in the output
// means a leak and not a coincidence.
var leaky = map[string]bool{
	DetectorCard:       true,
	DetectorAPIKey:     true,
	DetectorAWSKey:     true,
	DetectorJWT:        true,
	DetectorPrivateKey: true,
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"",
		"pan=4111 1111 1111 1111 exp=12/31",
		"4111-1111-1111-1111-5555-5555-5555-4444",
		"3782 822463 10005 and 6011000990139424",
		"john.doe@example.com +1 (415) 555-0100",
		"key=" + testKey,
		"Authorization: Bearer " + testJWT,
		"AKIAIOSFODNN7EXAMPLE postgres://app:hunter2@db/shop",
		testPEM,
		"-----BEGIN PRIVATE KEY-----\nMIIE",
		"https://u:p@ss@example.com/ 4111111111111111@example.com",
		"ORD-4111111111111111 1.4111111111111111 2024-06-11T10:15:30+01:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Redact(in)
		ms := Find([]byte(in))

		for i, m := range ms {
			if m.Start < 0 || m.Start >= m.End || m.End > len(in) {
				t.Fatalf("match %d has range [%d,%d) in %d bytes", i, m.Start, m.End, len(in))
			}
			if i > 0 && m.Start < ms[i-1].End {
				t.Fatalf("match %d overlaps or precedes match %d", i, i-1)
			}
		}

		// Each matched value may appear in the output only as often as it
		// appears in the input outside the matches.
		count := map[string]int{}
		for _, m := range ms {
			if leaky[m.Detector] {
				count[in[m.Start:m.End]]++
			}
		}
		for v, n := range count {
			if strings.Count(out, v)+n > strings.Count(in, v) {
				t.Fatalf("Redact(%q) = %q keeps %q", in, out, v)
			}
		}

		for _, m := range Find([]byte(out)) {
			if leaky[m.Detector] {
				t.Fatalf("Redact(%q) = %q leaves %s %q", in, out, m.Detector, out[m.Start:m.End])
			}
		}

		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Redact(%q) = %q is not UTF-8", in, out)
		}
	})
}
