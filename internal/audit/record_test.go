package audit

import (
	"bytes"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/scan"
)

func TestRecordRoundTrip(t *testing.T) {
	for i := range 40 {
		r := sampleRecord(i)
		b, err := r.Encode()
		if err != nil {
			t.Fatal(err)
		}
		d, err := Decode(b)
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		again, err := d.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("record %d: encode(decode(b)) differs: %v", i, err)
		}
		if d.Resource != r.Resource || d.Principal.ID != r.Principal.ID || !d.Time.Equal(r.Time) ||
			d.Outcome != r.Outcome || d.Phase != r.Phase || d.RequestSeq != r.RequestSeq ||
			d.Purpose != r.Purpose {
			t.Fatalf("record %d decoded as %+v", i, d)
		}
	}
}

func TestRecordCanonical(t *testing.T) {
	a := sampleRecord(2)
	a.Principal.Roles = []string{"dba", "admin", "dba"}
	a.Time = a.Time.In(time.FixedZone("x", 3600))
	b := sampleRecord(2)
	b.Principal.Roles = []string{"admin", "dba"}
	ea, err1 := a.Encode()
	eb, err2 := b.Encode()
	if err1 != nil || err2 != nil || !bytes.Equal(ea, eb) {
		t.Fatalf("equal records encode differently: %v %v", err1, err2)
	}
	if strings.Join(a.Principal.Roles, ",") != "dba,admin,dba" {
		t.Fatal("Encode changed its argument")
	}
}

func TestEncodeRejects(t *testing.T) {
	long := strings.Repeat("a", MaxName+1)
	cases := map[string]func(r *Record){
		"no phase":              func(r *Record) { r.Phase = 0 },
		"phase 3":               func(r *Record) { r.Phase = 3 },
		"request with status":   func(r *Record) { r.Outcome.Status = 200 },
		"request with seq":      func(r *Record) { r.RequestSeq = 4 },
		"outcome without":       func(r *Record) { r.Phase = PhaseOutcome },
		"status 600":            func(r *Record) { r.Phase, r.Outcome.Status = PhaseOutcome, 600 },
		"effect 3":              func(r *Record) { r.Decision.Effect = 3 },
		"no action":             func(r *Record) { r.Action = "" },
		"long name":             func(r *Record) { r.Resource.ID = long },
		"long user agent":       func(r *Record) { r.Source.UserAgent = strings.Repeat("a", MaxText+1) },
		"space in a name":       func(r *Record) { r.Action = "read customer" },
		"space in the purpose":  func(r *Record) { r.Purpose = "monthly capture" },
		"long purpose":          func(r *Record) { r.Purpose = long },
		"card number purpose":   func(r *Record) { r.Purpose = "4111111111111111" },
		"legacy with purpose":   func(r *Record) { r.legacy, r.Purpose = true, "refund" },
		"control character":     func(r *Record) { r.Source.UserAgent = "a\nb" },
		"invalid UTF-8":         func(r *Record) { r.Source.UserAgent = "a\xffb" },
		"empty role":            func(r *Record) { r.Principal.Roles = []string{""} },
		"too many fields":       func(r *Record) { r.Fields = make([]string, MaxList+1) },
		"time before 1970":      func(r *Record) { r.Time = time.Unix(-1, 0) },
		"card number":           func(r *Record) { r.Resource.ID = "4111111111111111" },
		"email":                 func(r *Record) { r.Principal.ID = "ada@example.com" },
		"phone in user agent":   func(r *Record) { r.Source.UserAgent = "call +1 415 555 0100" },
		"api key in request id": func(r *Record) { r.RequestID = "sck_abcdefghijkl_" + strings.Repeat("A", 43) },
	}
	for name, edit := range cases {
		r := sampleRecord(0)
		edit(r)
		if _, err := r.Encode(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Encode gave %v, want ErrInvalid", name, err)
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	good, err := sampleRecord(3).Encode()
	if err != nil {
		t.Fatal(err)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// The request id's length byte sits right after the fixed part.
	cases := map[string][]byte{
		"empty":     nil,
		"truncated": good[:len(good)-1],
		"trailing":  append(bytes.Clone(good), 0),
		"version 0": edit(func(b []byte) []byte { b[0] = 0; return b }),
		"version 3": edit(func(b []byte) []byte { b[0] = 3; return b }),
		// Version 1 has no purpose: the last string would be read as the
		// roles count and the lists would not add up.
		"version 1":      edit(func(b []byte) []byte { b[0] = 1; return b }),
		"phase 0":        edit(func(b []byte) []byte { b[1] = 0; return b }),
		"time overflows": edit(func(b []byte) []byte { binary.BigEndian.PutUint64(b[2:], 1<<63); return b }),
		"effect 9":       edit(func(b []byte) []byte { b[22] = 9; return b }),
		"non-minimal length": edit(func(b []byte) []byte {
			n := b[fixedSize]
			return append(append(b[:fixedSize:fixedSize], n|0x80, 0), b[fixedSize+1:]...)
		}),
		"too long": append(bytes.Clone(good), make([]byte, MaxRecordSize)...),
	}
	for name, b := range cases {
		if _, err := Decode(b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Decode gave %v, want ErrInvalid", name, err)
		}
	}
	// Unsorted list.
	r := sampleRecord(0)
	r.Principal.Roles = []string{"b", "a"}
	c := r.canonical()
	c.Principal.Roles = []string{"b", "a"}
	var raw []byte
	raw = append(raw, Version, byte(c.Phase))
	raw = binary.BigEndian.AppendUint64(raw, uint64(c.Time.UnixNano()))
	raw = binary.BigEndian.AppendUint64(raw, 0)
	raw = binary.BigEndian.AppendUint16(raw, c.Source.TLSVersion)
	raw = binary.BigEndian.AppendUint16(raw, 0)
	raw = append(raw, byte(c.Decision.Effect))
	for _, f := range strFields {
		raw = appendString(raw, *f.get(&c))
	}
	for _, f := range listFields {
		l := *f.get(&c)
		raw = binary.AppendUvarint(raw, uint64(len(l)))
		for _, s := range l {
			raw = appendString(raw, s)
		}
	}
	if _, err := Decode(raw); !errors.Is(err, ErrInvalid) {
		t.Errorf("unsorted roles: Decode gave %v", err)
	}
}

// TestLegacyRecord reads a version 1 record, written before records had a
// purpose, and gets its bytes back from Encode.
func TestLegacyRecord(t *testing.T) {
	r := sampleRecord(3)
	r.legacy = true
	v1, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	r.legacy = false
	v2, err := r.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if v1[0] != 1 || v2[0] != Version || len(v2) != len(v1)+1 {
		t.Fatalf("version 1 is %d bytes (version %d), version 2 %d bytes", len(v1), v1[0], len(v2))
	}
	d, err := Decode(v1)
	if err != nil {
		t.Fatal(err)
	}
	if d.Purpose != "" || d.Action != r.Action || d.Resource != r.Resource {
		t.Fatalf("decoded %+v", d)
	}
	again, err := d.Encode()
	if err != nil || !bytes.Equal(again, v1) {
		t.Fatalf("version 1 record encodes as %x (%v), want %x", again, err, v1)
	}
	// The fuzz seeds of version 1 still decode.
	seed, err := os.ReadFile(filepath.Join("testdata", "fuzz", "FuzzDecode", "request"))
	if err != nil {
		t.Fatal(err)
	}
	lit, ok := strings.CutPrefix(strings.TrimSpace(strings.SplitN(string(seed), "\n", 2)[1]), "[]byte(")
	if !ok {
		t.Fatalf("seed: %.40s", seed)
	}
	b, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := Decode([]byte(b)); err != nil || b[0] != 1 {
		t.Fatalf("version 1 seed: %v (version %d)", err, b[0])
	} else if again, _ := d.Encode(); !bytes.Equal(again, []byte(b)) {
		t.Fatal("version 1 seed does not encode back")
	}
}

// seededPII are values a request may carry that must never reach a
// record, each with the part that must not appear.
var seededPII = []struct{ value, core string }{
	{"4111 1111 1111 1111", "1111 1111 1111"},
	{"5555-5555-5555-4444", "5555-5555-5555"},
	{"ada.lovelace@example.com", "ada.lovelace"},
	{"+44 20 7946 0958", "7946 0958"},
	{"Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJlLXZhbHVl", "c2lnbmF0dXJlLXZhbHVl"},
	{"sck_abcdefghijkl_ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
	{"postgres://app:hunter2secret@db.internal/shop", "hunter2secret"},
	{"AKIAABCDEFGHIJKLMNOP", "AKIAABCDEFGHIJKLMNOP"},
}

// TestNoSensitiveDataInRecords appends records built from requests whose
// every client-supplied string carries PII or a secret, and scans the
// log's files for them.
func TestNoSensitiveDataInRecords(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	l := openTestLog(t, dir, k, nil)
	for i, pii := range seededPII {
		v := pii.value
		for j := range 7 {
			r := sampleRecord(i*7 + j)
			switch j {
			case 0:
				r.Source.UserAgent = "Mozilla/5.0 " + v
			case 1:
				r.Source.ClientCert = "CN=" + v + ",O=Shop"
			case 2:
				r.Resource.ID = v
			case 3:
				r.Principal.ID = v
			case 4:
				r.RequestID = v
			case 5:
				r.Source.Address = v
			case 6:
				r.Purpose = v
			}
			if _, err := l.Append(t.Context(), r); err != nil {
				t.Fatalf("append with %q in field %d: %v", v, j, err)
			}
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if ms := scan.Find(b); len(ms) > 0 {
			t.Fatalf("%s: %s found: %q", e.Name(), ms[0].Detector, b[ms[0].Start:ms[0].End])
		}
		for _, pii := range seededPII {
			if bytes.Contains(b, []byte(pii.core)) || bytes.Contains(b, []byte(strings.ReplaceAll(pii.core, " ", "_"))) {
				t.Fatalf("%s holds %q", e.Name(), pii.core)
			}
		}
	}
	n := 0
	for e, err := range NewReader(dir).Scan(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		b, _ := e.Record.Encode()
		if ms := scan.Find(b); len(ms) > 0 {
			t.Fatalf("record %d: %s found", e.Seq, ms[0].Detector)
		}
		n++
	}
	if n != 7*len(seededPII) {
		t.Fatalf("%d records", n)
	}
}

// The hot paths read the fields through strs and lists; they must follow
// the encoding order of strFields and listFields.
func TestFieldOrder(t *testing.T) {
	r := sampleRecord(3)
	r.Outcome.ErrorCode = "e"
	for i, v := range r.strs() {
		if got := *strFields[i].get(r); got != v {
			t.Fatalf("string %d: %q in strFields, %q in strs", i, got, v)
		}
	}
	for i, l := range r.lists() {
		if got := *listFields[i].get(r); strings.Join(got, ",") != strings.Join(l, ",") {
			t.Fatalf("list %d differs", i)
		}
	}
}

func TestLeafHash(t *testing.T) {
	for i := range 5 {
		rec, _ := sampleRecord(i).Encode()
		if !bytes.Equal(leafHash(rec), hasher.HashLeaf(rec)) {
			t.Fatal("leafHash differs from the RFC 6962 hasher")
		}
		th := newTreeHasher()
		if !bytes.Equal(th.leaf(rec), hasher.HashLeaf(rec)) ||
			!bytes.Equal(th.children(rec[:32], rec[32:64]), hasher.HashChildren(rec[:32], rec[32:64])) {
			t.Fatal("treeHasher differs from the RFC 6962 hasher")
		}
	}
}
