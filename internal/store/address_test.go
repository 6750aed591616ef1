package store

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// decodeAddress gives what json.Unmarshal gives, for addresses Marshal
// wrote and for anything else.
func TestDecodeAddress(t *testing.T) {
	addrs := []Address{
		{Line1: "12 St James's Square", City: "London", PostalCode: "SW1Y 4JH", Country: "GB"},
		{Line1: "Hauptstraße 5", Line2: "Hinterhaus", City: "München", Region: "Bayern", PostalCode: "80331", Country: "DE"},
		{},
		{Line1: `quote " and \ back`, City: "a<b>&c", Country: "x\u2028y"},
		{Line1: "tab\there", Line2: "\x00", City: "ok", Country: "FR"},
		{Line1: "bad \xff utf-8", City: "ok"},
	}
	for _, a := range addrs {
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, b)
	}
	for _, s := range []string{
		``, `{}`, `null`, `{"line1":"a"}`, `{ "line1":"a","city":"b","postal_code":"c","country":"d"}`,
		`{"line1":"a","line2":"","city":"b","postal_code":"c","country":"d"}`,
		`{"line1":"a","city":"b","postal_code":"c","country":"d","extra":"e"}`,
		`{"LINE1":"a","city":"b","postal_code":"c","country":"d"}`,
		`{"line1":"a","city":"b","postal_code":"c","country":"d"`,
		`{"line1":"a""city":"b","postal_code":"c","country":"d"}`,
		`{"line1":"a","city":"b","postal_code":"c","country":1}`,
	} {
		checkDecode(t, []byte(s))
	}
}

func checkDecode(t *testing.T, b []byte) {
	t.Helper()
	var got, want Address
	errGot := decodeAddress(b, &got)
	errWant := json.Unmarshal(b, &want)
	if (errGot == nil) != (errWant == nil) || (errWant == nil && got != want) {
		t.Fatalf("decodeAddress(%q) = %+v, %v; json.Unmarshal: %+v, %v", b, got, errGot, want, errWant)
	}
}

func FuzzDecodeAddress(f *testing.F) {
	f.Add("12 St James's Square", "", "London", "", "SW1Y 4JH", "GB", []byte(`{"line1":"a","city":"b","postal_code":"c","country":"d"}`))
	f.Add("a\"b", "c\\d", "<", "\u2028", "\x01", "\xff", []byte(`{}`))
	f.Fuzz(func(t *testing.T, l1, l2, city, region, pc, country string, raw []byte) {
		checkDecode(t, raw)

		a := Address{Line1: l1, Line2: l2, City: city, Region: region, PostalCode: pc, Country: country}
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		checkDecode(t, b)
		var got Address
		if err := decodeAddress(b, &got); err != nil {
			t.Fatal(err)
		}
		valid := true
		for _, s := range []string{l1, l2, city, region, pc, country} {
			valid = valid && utf8.ValidString(s)
		}
		if valid && got != a {
			t.Fatalf("round trip of %+v gave %+v", a, got)
		}
	})
}
