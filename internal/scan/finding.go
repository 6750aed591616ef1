package scan

import (
	"strconv"
	"strings"
)

// Finding is one detection in a scanned object, located and masked: it
// never holds the value in clear.
type Finding struct {
	Detector   string  `json:"detector"`
	Severity   string  `json:"severity"`
	Confidence float64 `json:"confidence"`
	// Object names what was scanned: a file path, "orders/ord_1/notes".
	Object string `json:"object"`
	// Line and Column (in bytes) count from 1; Offset from 0. They are
	// positions in the decompressed text.
	Line   int   `json:"line"`
	Column int   `json:"column"`
	Offset int64 `json:"offset"`
	Length int   `json:"length"`
	// Sample is the value masked: a card's last four digits, an email's
	// first letter and domain, a secret's length.
	Sample string `json:"sample"`
	Brand  string `json:"brand,omitempty"`
}

// Sample returns the masked form of v, a value detector found, as a
// Finding shows it.
func Sample(detector, v string) string {
	switch detector {
	case DetectorCard:
		return "••••" + lastDigits(v, 4)
	case DetectorEmail:
		at := strings.LastIndexByte(v, '@')
		if at <= 0 {
			return "•••"
		}
		return v[:1] + "•••" + v[at:]
	case DetectorPhone:
		return "••••" + lastDigits(v, 2)
	case DetectorSSN:
		return "•••-••-••••"
	case DetectorIBAN:
		if len(v) < 8 {
			return "••••"
		}
		return v[:2] + "••…" + lastAlnum(v, 4)
	case DetectorIPv4:
		if dot := strings.IndexByte(v, '.'); dot > 0 {
			return v[:dot] + ".•.•.•"
		}
	case DetectorIPv6:
		if c := strings.IndexByte(v, ':'); c > 0 {
			return v[:c] + ":•…"
		}
	case DetectorAWSKey:
		if len(v) > 4 {
			return v[:4] + strings.Repeat("•", len(v)-4)
		}
	}
	return "•••• (" + strconv.Itoa(len(v)) + " bytes)"
}

// lastDigits returns the last n digits of v, fewer if v has fewer.
func lastDigits(v string, n int) string {
	return lastOf(v, n, cDigit)
}

func lastAlnum(v string, n int) string {
	return lastOf(v, n, cAlnum)
}

func lastOf(v string, n int, classes uint16) string {
	buf := make([]byte, n)
	k := n
	for i := len(v) - 1; i >= 0 && k > 0; i-- {
		if is(v[i], classes) {
			k--
			buf[k] = v[i]
		}
	}
	return string(buf[k:])
}
