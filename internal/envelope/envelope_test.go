package envelope

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func newAEAD(t testing.TB) cipher.AEAD {
	t.Helper()
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

var testHeader = Header{Domain: CustomerPII, KeyID: 42, KeyVersion: 3}
var testBinding = Binding{Table: "customers", Column: "email", Row: "c_1"}

func TestRoundTrip(t *testing.T) {
	aead := newAEAD(t)
	for _, pt := range [][]byte{nil, {}, []byte("a"), bytes.Repeat([]byte("x"), 4096)} {
		sealed, err := Seal(aead, testHeader, testBinding, pt)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != len(pt)+Overhead {
			t.Fatalf("sealed length %d, want %d", len(sealed), len(pt)+Overhead)
		}
		h, err := Parse(sealed)
		if err != nil || h != testHeader {
			t.Fatalf("Parse = %+v, %v", h, err)
		}
		got, err := Open(aead, sealed, testBinding)
		if err != nil || !bytes.Equal(got, pt) {
			t.Fatalf("Open = %q, %v", got, err)
		}
	}
}

func TestWrongPlaceDoesNotOpen(t *testing.T) {
	aead := newAEAD(t)
	sealed, err := Seal(aead, testHeader, testBinding, []byte("ada@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]Binding{
		"row":    {Table: "customers", Column: "email", Row: "c_2"},
		"column": {Table: "customers", Column: "phone", Row: "c_1"},
		"table":  {Table: "orders", Column: "email", Row: "c_1"},
		// Length prefixes keep "ab"+"c" apart from "a"+"bc".
		"shifted": {Table: "customersemail", Column: "c", Row: "_1"},
	}
	for name, b := range cases {
		if _, err := Open(aead, sealed, b); !errors.Is(err, ErrAuth) {
			t.Errorf("%s: Open err = %v, want ErrAuth", name, err)
		}
	}
	if _, err := Open(newAEAD(t), sealed, testBinding); !errors.Is(err, ErrAuth) {
		t.Errorf("other key: err = %v, want ErrAuth", err)
	}
}

func TestHeaderIsAuthenticated(t *testing.T) {
	aead := newAEAD(t)
	sealed, _ := Seal(aead, testHeader, testBinding, []byte("x"))
	for i := 1; i < HeaderSize; i++ {
		c := bytes.Clone(sealed)
		c[i] ^= 0x01
		if _, err := Open(aead, c, testBinding); err == nil {
			t.Fatalf("flip at header byte %d still opens", i)
		}
	}
}

func TestRandomFlipsNeverOpen(t *testing.T) {
	aead := newAEAD(t)
	sealed, _ := Seal(aead, testHeader, testBinding, []byte("4111 1111 1111 1111, Ada Lovelace"))
	buf := make([]byte, 3)
	opened := 0
	for i := 0; i < 1000; i++ {
		rand.Read(buf)
		pos := (int(buf[0])<<8 | int(buf[1])) % len(sealed)
		bit := byte(1) << (buf[2] % 8)
		c := bytes.Clone(sealed)
		c[pos] ^= bit
		if pt, err := Open(aead, c, testBinding); err == nil || pt != nil {
			opened++
		}
	}
	if opened != 0 {
		t.Fatalf("%d of 1000 flipped envelopes opened", opened)
	}
}

func TestParseRejects(t *testing.T) {
	aead := newAEAD(t)
	good, _ := Seal(aead, testHeader, testBinding, []byte("x"))
	badVersion := bytes.Clone(good)
	badVersion[0] = 2
	badDomain := bytes.Clone(good)
	badDomain[1] = 0
	badDomain2 := bytes.Clone(good)
	badDomain2[1] = 7
	cases := map[string][]byte{
		"empty":       nil,
		"short":       good[:HeaderSize+TagSize-1],
		"version":     badVersion,
		"domain 0":    badDomain,
		"domain 7":    badDomain2,
		"only header": good[:HeaderSize],
	}
	for name, b := range cases {
		if _, err := Parse(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Parse err = %v, want ErrMalformed", name, err)
		}
		if _, err := Open(aead, b, testBinding); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: Open err = %v, want ErrMalformed", name, err)
		}
	}
}

func TestSealRejects(t *testing.T) {
	aead := newAEAD(t)
	if _, err := Seal(aead, Header{Domain: 9}, testBinding, nil); err == nil {
		t.Error("unknown domain sealed")
	}
	long := string(bytes.Repeat([]byte("r"), MaxBindingPart+1))
	for _, b := range []Binding{{}, {Table: "t", Column: "c"}, {Table: "t", Column: "c", Row: long}} {
		if _, err := Seal(aead, testHeader, b, nil); !errors.Is(err, ErrBinding) {
			t.Errorf("binding %+v: err = %v, want ErrBinding", b, err)
		}
	}
}

func TestNoRepeatedNonces(t *testing.T) {
	aead := newAEAD(t)
	n := 100000
	if testing.Short() {
		n = 10000
	}
	seen := make(map[[NonceSize]byte]struct{}, n)
	for i := 0; i < n; i++ {
		sealed, err := Seal(aead, testHeader, testBinding, []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		p, _ := Split(sealed)
		if _, dup := seen[p.Nonce]; dup {
			t.Fatalf("nonce repeated after %d seals", i)
		}
		seen[p.Nonce] = struct{}{}
	}
}

func TestDomainNames(t *testing.T) {
	for _, d := range Domains {
		got, err := ParseDomain(d.String())
		if err != nil || got != d {
			t.Errorf("ParseDomain(%q) = %v, %v", d, got, err)
		}
	}
	if _, err := ParseDomain("nope"); err == nil {
		t.Error("unknown domain name accepted")
	}
}

// TestSeedsWritten keeps testdata/ in step with the format: the fuzz seeds are
// real envelopes.
func TestSeedsParse(t *testing.T) {
	files, _ := filepath.Glob("testdata/fuzz/FuzzParse/*")
	if len(files) == 0 {
		t.Fatal("no fuzz seeds in testdata/fuzz/FuzzParse")
	}
	for _, f := range files {
		if _, err := os.ReadFile(f); err != nil {
			t.Fatal(err)
		}
	}
}

func FuzzParse(f *testing.F) {
	aead := newAEAD(f)
	sealed, _ := Seal(aead, testHeader, testBinding, []byte("seed"))
	f.Add(sealed)
	f.Add([]byte{})
	f.Add(make([]byte, HeaderSize+TagSize))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Split(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("Split error %v is not ErrMalformed", err)
			}
			return
		}
		if !bytes.Equal(p.Bytes(), b) {
			t.Fatalf("Split then Bytes changed the envelope")
		}
		if _, err := Open(aead, b, testBinding); err == nil && !bytes.Equal(b, sealed) {
			t.Fatalf("a fuzzed envelope opened")
		}
	})
}

func BenchmarkSeal64(b *testing.B) {
	aead := newAEAD(b)
	pt := bytes.Repeat([]byte("p"), 64)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Seal(aead, testHeader, testBinding, pt); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpen64(b *testing.B) {
	aead := newAEAD(b)
	sealed, _ := Seal(aead, testHeader, testBinding, bytes.Repeat([]byte("p"), 64))
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Open(aead, sealed, testBinding); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawGCMSeal64 is the baseline: AES-256-GCM of the same bytes with a
// fresh random nonce and nothing else.
func BenchmarkRawGCMSeal64(b *testing.B) {
	aead := newAEAD(b)
	pt := bytes.Repeat([]byte("p"), 64)
	nonce := make([]byte, NonceSize)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		rand.Read(nonce)
		_ = aead.Seal(nil, nonce, pt, nil)
	}
}

func BenchmarkRawGCMOpen64(b *testing.B) {
	aead := newAEAD(b)
	nonce := make([]byte, NonceSize)
	rand.Read(nonce)
	ct := aead.Seal(nil, nonce, bytes.Repeat([]byte("p"), 64), nil)
	b.SetBytes(64)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aead.Open(nil, nonce, ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}
