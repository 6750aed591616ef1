package scan

import "testing"

func TestCardBrand(t *testing.T) {
	for _, tt := range []struct {
		in    string
		brand string
		ok    bool
	}{
		{"4111111111111111", BrandVisa, true},
		{"5555555555554444", BrandMastercard, true},
		{"378282246310005", BrandAmex, true},
		{"6011111111111117", BrandDiscover, true},
		{"4111111111111112", BrandVisa, false}, // Luhn
		{"9111111111111111", "", false},        // no brand
		{"41111111111", "", false},             // too short
		{"4111 1111 1111 1111", "", false},     // not digits only
		{"41111111111111111111", "", false},    // too long
	} {
		b, ok := CardBrand(tt.in)
		if ok != tt.ok || (ok && b != tt.brand) {
			t.Errorf("CardBrand(%q) = %q, %v; want %q, %v", tt.in, b, ok, tt.brand, tt.ok)
		}
	}
}
