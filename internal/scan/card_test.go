package scan

import (
	"strings"
	"testing"
)

// withCheckDigit pads prefix with zeros to n-1 digits and appends the Luhn
// check digit, computed here independently of luhn.
func withCheckDigit(prefix string, n int) string {
	body := prefix + strings.Repeat("0", n-1-len(prefix))
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		v := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 { // every other digit, from the check digit's neighbour
			v *= 2
			if v > 9 {
				v -= 9
			}
		}
		sum += v
	}
	return body + string(rune('0'+(10-sum%10)%10))
}

func TestCardBrands(t *testing.T) {
	tests := []struct {
		number string
		brand  string // "" for not a card
	}{
		// Published test numbers.
		{"4111111111111111", BrandVisa},
		{"4012888888881881", BrandVisa},
		{"4222222222222", BrandVisa},
		{"5555555555554444", BrandMastercard},
		{"5105105105105100", BrandMastercard},
		{"2223003122003222", BrandMastercard},
		{"378282246310005", BrandAmex},
		{"371449635398431", BrandAmex},
		{"6011111111111117", BrandDiscover},
		{"6011000990139424", BrandDiscover},
		{"3530111333300000", BrandJCB},
		{"3566002020360505", BrandJCB},
		{"30569309025904", BrandDiners},
		{"38520000023237", BrandDiners},
		{"36227206271667", BrandDiners},
		{"6200000000000005", BrandUnionPay},

		// The edges of each IIN range and length.
		{withCheckDigit("4", 19), BrandVisa},
		{withCheckDigit("4", 15), ""},
		{withCheckDigit("2220", 16), ""},
		{withCheckDigit("2221", 16), BrandMastercard},
		{withCheckDigit("2720", 16), BrandMastercard},
		{withCheckDigit("2721", 16), ""},
		{withCheckDigit("50", 16), ""},
		{withCheckDigit("56", 16), ""},
		{withCheckDigit("55", 17), ""},
		{withCheckDigit("34", 16), ""},
		{withCheckDigit("643", 16), ""},
		{withCheckDigit("644", 16), BrandDiscover},
		{withCheckDigit("649", 19), BrandDiscover},
		{withCheckDigit("65", 16), BrandDiscover},
		{withCheckDigit("6011", 15), ""},
		{withCheckDigit("3527", 16), ""},
		{withCheckDigit("3528", 16), BrandJCB},
		{withCheckDigit("3589", 19), BrandJCB},
		{withCheckDigit("3590", 16), ""},
		{withCheckDigit("299", 14), ""},
		{withCheckDigit("300", 14), BrandDiners},
		{withCheckDigit("305", 14), BrandDiners},
		{withCheckDigit("306", 14), ""},
		{withCheckDigit("39", 16), BrandDiners},
		{withCheckDigit("36", 13), ""},
		{withCheckDigit("62", 16), BrandUnionPay},
		{withCheckDigit("62", 15), ""},
		{withCheckDigit("1", 16), ""},
		{withCheckDigit("7", 16), ""},
		{withCheckDigit("9", 16), ""},
		{withCheckDigit("0", 16), ""},
	}
	for _, tt := range tests {
		t.Run(tt.number, func(t *testing.T) {
			got := ""
			if ms := Find([]byte(tt.number)); len(ms) == 1 && ms[0].Detector == DetectorCard {
				got = ms[0].Brand
			}
			if got != tt.brand {
				t.Errorf("brand of %s = %q, want %q", tt.number, got, tt.brand)
			}
		})
	}
}

func TestLuhn(t *testing.T) {
	tests := []struct {
		digits string
		want   bool
	}{
		{"79927398713", true},
		{"79927398710", false},
		{"4111111111111111", true},
		{"4111111111111112", false},
		{"0", true},
		{"18", true},
		{"81", false},
	}
	for _, tt := range tests {
		if got := luhn([]byte(tt.digits)); got != tt.want {
			t.Errorf("luhn(%s) = %v, want %v", tt.digits, got, tt.want)
		}
	}
}

func TestGroupingOK(t *testing.T) {
	tests := []struct {
		lens []int
		want bool
	}{
		{[]int{4, 4, 4, 4}, true},
		{[]int{4, 4, 4, 4, 3}, true},
		{[]int{4, 4, 4, 1}, true},
		{[]int{4, 6, 5}, true},
		{[]int{4, 6, 4}, true},
		{[]int{4, 6, 6}, false},
		{[]int{4, 4, 5, 3}, false},
		{[]int{4, 3, 3, 3}, false},
	}
	for _, tt := range tests {
		if got := groupingOK(tt.lens); got != tt.want {
			t.Errorf("groupingOK(%v) = %v, want %v", tt.lens, got, tt.want)
		}
	}
}
