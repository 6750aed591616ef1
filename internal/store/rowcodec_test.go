package store

import (
	"bytes"
	"testing"
)

func sampleProduct() []byte {
	r := productRow{ID: "prd_x", SKU: "SKU-1", Name: "Mug", Description: "A mug", Price: 1200,
		Currency: "EUR", Stock: -3, CreatedAt: 1764000000000000, UpdatedAt: 1764000000000001, Version: 2}
	return appendRow(nil, r.columns())
}

func TestBinaryRowRoundTrip(t *testing.T) {
	b := sampleProduct()
	cols, err := decodeBinaryRow("products", b)
	if err != nil {
		t.Fatal(err)
	}
	if got := appendRow(nil, cols); !bytes.Equal(got, b) {
		t.Fatalf("round trip: %x, want %x", got, b)
	}
	bad := map[string][]byte{
		"truncated":      b[:len(b)-1],
		"trailing":       append(bytes.Clone(b), 0),
		"text as number": append([]byte{kindInt, 2}, b[1:]...),
		"empty":          nil,
	}
	for what, in := range bad {
		if _, err := decodeBinaryRow("products", in); err == nil {
			t.Errorf("%s: accepted", what)
		}
	}
	if _, err := decodeBinaryRow("principals", b); err == nil {
		t.Error("unknown table accepted")
	}
	// A customer row whose sealed column is not an envelope is refused.
	c := customerRow{ID: "cus_x", Name: []byte("plain"), Email: []byte("x"), Phone: []byte("x"),
		Address: []byte("x"), EmailBidx: []byte("x"), BidxVersion: 1}
	if _, err := decodeBinaryRow("customers", appendRow(nil, c.columns())); err == nil {
		t.Error("unsealed customer row accepted")
	}
}

// FuzzBinaryRow checks that the decoder never panics and accepts only what
// appendRow writes.
func FuzzBinaryRow(f *testing.F) {
	f.Add(sampleProduct())
	f.Add([]byte{kindText, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		cols, err := decodeBinaryRow("products", b)
		if err != nil {
			return
		}
		if got := appendRow(nil, cols); !bytes.Equal(got, b) {
			t.Fatalf("accepted a row the encoder would not write: %x", b)
		}
	})
}
