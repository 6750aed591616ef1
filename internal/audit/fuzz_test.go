package audit

import (
	"bytes"
	"testing"
)

// FuzzDecode: whatever Decode accepts, Encode gives back byte for byte.
// Seeds are in testdata/fuzz/FuzzDecode.
func FuzzDecode(f *testing.F) {
	for i := range 4 {
		b, err := sampleRecord(i).Encode()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decode(b)
		if err != nil {
			return
		}
		again, err := r.Encode()
		if err != nil {
			t.Fatalf("decoded record does not encode: %v", err)
		}
		if !bytes.Equal(again, b) {
			t.Fatalf("round trip changed the bytes:\n%x\n%x", b, again)
		}
	})
}

// FuzzParseCheckpoint: whatever ParseCheckpoint accepts, Text gives back.
func FuzzParseCheckpoint(f *testing.F) {
	f.Add("test.example/audit\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\ntime 2026-12-03T19:00:00.5Z\ncheckpoint 3\n")
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCheckpoint(s)
		if err != nil {
			return
		}
		if c.Text() != s {
			t.Fatalf("round trip changed the text:\n%q\n%q", s, c.Text())
		}
	})
}

// FuzzSplitNotes: splitting never loses or invents bytes.
func FuzzSplitNotes(f *testing.F) {
	f.Add([]byte("a\n1\n\n\u2014 k sig\nb\n2\n\n\u2014 k sig\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		notes, torn := splitNotes(b)
		if joined := bytes.Join(notes, nil); !bytes.Equal(joined, b[:torn]) {
			t.Fatalf("notes do not add up to the data before %d", torn)
		}
	})
}
