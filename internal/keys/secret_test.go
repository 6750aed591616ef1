package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/gob"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
)

// leaks returns the spellings of key that would betray it in text,
// including the first words of an AES key schedule as fmt prints them.
func leaks(key []byte) []string {
	be, le := binary.BigEndian, binary.LittleEndian
	return []string{
		fmt.Sprint(be.Uint32(key), " ", be.Uint32(key[4:]), " ", be.Uint32(key[8:])),
		fmt.Sprint(le.Uint32(key), " ", le.Uint32(key[4:]), " ", le.Uint32(key[8:])),
		hex.EncodeToString(key),
		strings.ToUpper(hex.EncodeToString(key)),
		fmt.Sprintf("% x", key),
		fmt.Sprint(key),
		fmt.Sprintf("%#v", key),
		base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key),
		base64.URLEncoding.EncodeToString(key),
		base64.RawURLEncoding.EncodeToString(key),
		string(key),
	}
}

// holder keeps a root key in an unexported field, as a caller's
// configuration struct might.
type holder struct {
	name string
	root RootKey
	ks   *Keystore
}

// assertNoLeak fails t if text contains any spelling of any key. Only the
// first half of each spelling is searched for, so that a truncated print
// counts too.
func assertNoLeak(t *testing.T, what, text string, keys ...[]byte) {
	t.Helper()
	for _, k := range keys {
		for _, l := range leaks(k) {
			if strings.Contains(text, l[:len(l)/2]) {
				t.Errorf("%s contains key material (%.20q...)", what, l)
			}
		}
	}
}

func TestSecretsDoNotPrint(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		root := ks.Root()
		kek, err := ks.active(envelope.CustomerPII)
		if err != nil {
			t.Fatal(err)
		}
		addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")
		keys := [][]byte{root.s.b[:], kek.material.b[:]}

		values := map[string]any{
			"RootKey":              root,
			"*RootKey":             &root,
			"*secret":              root.s,
			"struct with RootKey":  struct{ Root RootKey }{root},
			"struct with *secret":  struct{ S *secret }{root.s},
			"unexported fields":    holder{"h", root, ks},
			"*Keystore":            ks,
			"[]RootKey":            []RootKey{root},
			"map of *secret":       map[string]*secret{"k": kek.material},
			"FileProvider":         e.provider(),
			"KeyInfo list":         mustList(t, ks),
			"error with a RootKey": fmt.Errorf("wrapped: %v", root),
		}
		for name, v := range values {
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d", "%t", "%e"} {
				assertNoLeak(t, name+" printed with "+verb, fmt.Sprintf(verb, v), keys...)
			}
		}
		if s := fmt.Sprint(root.s); s != "[key material]" {
			t.Errorf("secret prints as %q, want the placeholder", s)
		}
		if s := root.String(); !strings.Contains(s, root.ID()) {
			t.Errorf("RootKey prints as %q, want its check value %s", s, root.ID())
		}

		// The check value names the key without being it.
		assertNoLeak(t, "root key id", root.ID(), keys...)
	})
}

func TestSecretsDoNotMarshal(t *testing.T) {
	root, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range map[string]any{
		"*secret":             root.s,
		"struct with *secret": struct{ Key *secret }{root.s},
		"[]*secret":           []*secret{root.s},
	} {
		if b, err := json.Marshal(v); !errors.Is(err, errMarshalSecret) {
			t.Errorf("json.Marshal(%s) = %q, %v; want errMarshalSecret", name, b, err)
		}
	}
	if b, err := root.s.MarshalText(); err == nil || b != nil {
		t.Errorf("MarshalText = %q, %v; want an error", b, err)
	}
	if err := gob.NewEncoder(new(bytes.Buffer)).Encode(root.s); err == nil {
		t.Error("gob encoded a secret")
	}

	// A RootKey either refuses or, having no exported fields, is an
	// empty object; either way no key material comes out.
	cases := []struct {
		name  string
		v     any
		empty string
	}{
		{"RootKey", root, `{}`},
		{"struct with RootKey", struct{ K RootKey }{root}, `{"K":{}}`},
	}
	for _, tc := range cases {
		b, err := json.Marshal(tc.v)
		if err == nil && string(b) != tc.empty {
			t.Errorf("json.Marshal(%s) = %q, want an error or %s", tc.name, b, tc.empty)
		}
		assertNoLeak(t, "JSON of "+tc.name, string(b), root.s.b[:])
	}
}

func TestRootKeyEqual(t *testing.T) {
	a, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	same, err := secretFrom(a.s.b[:])
	if err != nil {
		t.Fatal(err)
	}
	lastByte := bytes.Clone(a.s.b[:])
	lastByte[KeySize-1] ^= 1
	nearly, err := secretFrom(lastByte)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		x, y RootKey
		want bool
	}{
		{"itself", a, a, true},
		{"a copy", a, RootKey{same}, true},
		{"another key", a, b, false},
		{"last byte differs", a, RootKey{nearly}, false},
	}
	for _, tc := range cases {
		if got := tc.x.Equal(tc.y); got != tc.want {
			t.Errorf("%s: Equal = %v, want %v", tc.name, got, tc.want)
		}
		if got := tc.x.ID() == tc.y.ID(); got != tc.want {
			t.Errorf("%s: same ID = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestSecretWipeAndLength(t *testing.T) {
	k, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	if *k.s.b == [KeySize]byte{} {
		t.Fatal("a new root key is all zeros")
	}
	k.Wipe()
	if *k.s.b != [KeySize]byte{} {
		t.Fatal("Wipe left key material")
	}
	for _, n := range []int{0, 1, KeySize - 1, KeySize + 1, 64} {
		if _, err := secretFrom(make([]byte, n)); err == nil {
			t.Errorf("secretFrom accepted %d bytes", n)
		}
	}
}

func mustList(t *testing.T, ks *Keystore) []KeyInfo {
	t.Helper()
	l, err := ks.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return l
}
