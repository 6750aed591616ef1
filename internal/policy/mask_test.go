package policy

import (
	"strings"
	"testing"
)

func TestMaskEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jane@example.com", "j•••@example.com"},
		{"  Jane.Doe+shop@mail.example.org ", "J•••@mail.example.org"},
		{"j@example.com", "j•••@example.com"},
		{"élodie@exemple.fr", "é•••@exemple.fr"},
		{"", ""},
		{"   ", ""},
		{"jane", Masked},
		{"@example.com", Masked},
		{"jane@", Masked},
		{"a@b@c", Masked},
		{"\xff\xfe@example.com", Masked},
		{"jane@\xff", Masked},
		{"j•••@example.com", Masked},
	}
	for _, tt := range tests {
		if got := MaskEmail(tt.in); got != tt.want {
			t.Errorf("MaskEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+44 20 7946 0958", "+••••••••••58"},
		{"(555) 010-0199", "••••••••99"},
		{"0612345678", "••••••••78"},
		{"12345", "•••45"},
		{"", ""},
		{"1234", Masked},
		{"+", Masked},
		{"call me", Masked},
		{"+44 20 7946 0958 ext 12", Masked},
		{"12+345678", Masked},
		{"••••••••78", Masked},
		{"٠١٢٣٤٥٦٧", Masked},
	}
	for _, tt := range tests {
		if got := MaskPhone(tt.in); got != tt.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Ada Lovelace", "A. L."},
		{"ada  lovelace", "A. L."},
		{"Jean-Luc Picard", "J. P."},
		{"Ada", "A."},
		{"Søren Kierkegaard", "S. K."},
		{"(Bob) O'Neil", "B. O."},
		{"", ""},
		{"A.", Masked},
		{"A. L.", Masked},
		{"1234 -", Masked},
		{"\xff\xfe", Masked},
	}
	for _, tt := range tests {
		if got := MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestMaskAddress(t *testing.T) {
	tests := []struct {
		in   Address
		want string
	}{
		{Address{
			Lines: []string{"221B Baker Street"}, City: "London",
			PostalCode: "NW1 6XE", Country: "United Kingdom",
		}, "London, United Kingdom"},
		{Address{Lines: []string{"1 Rue de Rivoli"}, City: " Paris ", Region: "IDF"}, "Paris"},
		{Address{Country: "DE", PostalCode: "10115"}, "DE"},
		{Address{Lines: []string{"somewhere"}}, ""},
		{Address{}, ""},
	}
	for _, tt := range tests {
		if got := MaskAddress(tt.in); got != tt.want {
			t.Errorf("MaskAddress(%+v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// FuzzMasks checks that no mask panics or returns a nonempty input
// unchanged.
func FuzzMasks(f *testing.F) {
	for _, s := range []string{"jane@example.com", "+44 20 7946 0958", "Ada Lovelace", "", "•", "a@b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, mask := range map[string]func(string) string{
			"MaskEmail": MaskEmail, "MaskPhone": MaskPhone, "MaskName": MaskName,
		} {
			if got := mask(s); strings.TrimSpace(s) != "" && got == strings.TrimSpace(s) {
				t.Errorf("%s(%q) returned its input", name, s)
			}
		}
	})
}
