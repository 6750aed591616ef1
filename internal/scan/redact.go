package scan

import "strings"

// Redact returns s with every match of Find replaced by its detector's
// mask (see the package documentation). It returns s itself, without
// allocating, when there is nothing to mask.
func Redact(s string) string {
	ms := find(s, LogSet)
	if len(ms) == 0 {
		return s
	}

	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, m := range ms {
		b.WriteString(s[last:m.Start])
		writeMask(&b, m.Detector, s[m.Start:m.End])
		last = m.End
	}
	b.WriteString(s[last:])
	return b.String()
}

// writeMask writes the mask for the matched text v.
func writeMask(b *strings.Builder, detector, v string) {
	switch detector {
	case DetectorCard:
		b.WriteString("[card ••••")
		b.WriteString(lastFour(v))
		b.WriteByte(']')
	case DetectorEmail:
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			b.WriteString("[email]")
			return
		}
		b.WriteByte(v[0])
		b.WriteString("•••")
		b.WriteString(v[at:])
	case DetectorPhone:
		b.WriteString("[phone]")
	default:
		b.WriteString("[redacted ")
		b.WriteString(detector)
		b.WriteByte(']')
	}
}

// lastFour returns the last four digits of v, fewer if v has fewer.
func lastFour(v string) string { return lastDigits(v, 4) }
