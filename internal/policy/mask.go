package policy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Masked is what a mask returns for a value it cannot mask with confidence.
// It says that something is there and nothing about it.
const Masked = "•••"

const dot = "•"

// MaskEmail keeps the first character of the local part and the domain:
// "jane@example.com" becomes "j•••@example.com". The masked part always
// has the same length, so it does not reveal the local part's length.
func MaskEmail(email string) string {
	email = strings.TrimSpace(email)
	if email == "" {
		return ""
	}
	local, domain, ok := strings.Cut(email, "@")
	first, size := utf8.DecodeRuneInString(local)
	if !ok || domain == "" || strings.Contains(domain, "@") ||
		first == utf8.RuneError || !unicode.IsGraphic(first) || !utf8.ValidString(domain) {
		return Masked
	}
	return safe(email, local[:size]+Masked+"@"+domain)
}

// MaskPhone keeps a leading "+" and the last two digits and shows every
// other digit as "•"; spaces, dashes, dots and brackets are dropped, so the
// mask reveals the number's length but not its layout. Fewer than five
// digits, or any other character, gives Masked.
func MaskPhone(phone string) string {
	phone = strings.TrimSpace(phone)
	if phone == "" {
		return ""
	}
	plus := strings.HasPrefix(phone, "+")
	digits := make([]byte, 0, len(phone))
	for i, c := range []byte(phone) {
		switch {
		case c >= '0' && c <= '9':
			digits = append(digits, c)
		case c == '+' && i == 0, c == ' ', c == '-', c == '.', c == '(', c == ')':
		default:
			return Masked
		}
	}
	if len(digits) < 5 {
		return Masked
	}

	var b strings.Builder
	if plus {
		b.WriteByte('+')
	}
	b.WriteString(strings.Repeat(dot, len(digits)-2))
	b.Write(digits[len(digits)-2:])
	return safe(phone, b.String())
}

// MaskName reduces a name to initials: "Ada Lovelace" becomes "A. L.".
// Hyphenated parts count as one word; a word without a letter is dropped.
func MaskName(name string) string {
	name = strings.TrimSpace(name)
	if name == "" {
		return ""
	}
	var initials []string
	for _, w := range strings.Fields(name) {
		for _, r := range w {
			if unicode.IsLetter(r) {
				initials = append(initials, string(unicode.ToUpper(r))+".")
				break
			}
		}
	}
	if len(initials) == 0 {
		return Masked
	}
	return safe(name, strings.Join(initials, " "))
}

// Address is a postal address as the masks see it.
type Address struct {
	Lines      []string
	City       string
	Region     string
	PostalCode string
	Country    string
}

// MaskAddress keeps only the city and the country: "London, United
// Kingdom". Street lines, region and postal code never appear.
func MaskAddress(a Address) string {
	var parts []string
	for _, p := range []string{a.City, a.Country} {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, ", ")
}

// safe returns masked unless it equals the clear value, which happens only
// for inputs that were already masked or too short to hide anything.
func safe(clear, masked string) string {
	if masked == clear {
		return Masked
	}
	return masked
}
