package identity

import (
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestNewKeyShape(t *testing.T) {
	k, hash, err := newKey()
	if err != nil {
		t.Fatal(err)
	}
	full := k.Reveal()
	if len(full) != keyLen || keyLen != 60 {
		t.Fatalf("key is %d characters, want 60", len(full))
	}
	id, secret, ok := parseKey(full)
	if !ok || id != k.ID() || len(id) != 12 {
		t.Fatalf("parseKey(new key) = %q, %v", id, ok)
	}
	if base64.RawURLEncoding.EncodeToString(secret) != full[17:] {
		t.Error("parse then encode does not give the same secret")
	}
	if !bytes.Equal(hashSecret(secret), hash) {
		t.Error("the stored hash is not SHA-256 of the secret")
	}
	if k.Prefix() != "sck_"+id+"_" || !strings.HasPrefix(full, k.Prefix()) {
		t.Errorf("prefix %q of %q", k.Prefix(), id)
	}
	k2, _, _ := newKey()
	if k.Equal(k2) || !k.Equal(k) || k.ID() == k2.ID() {
		t.Error("two new keys compare equal or share an id")
	}
}

func TestParseKeyMalformed(t *testing.T) {
	k, _, _ := newKey()
	good := k.Reveal()
	secret := good[17:]
	// The last character of a 43-character secret carries 2 unused bits;
	// setting one gives a spelling that lax decoders accept.
	last := strings.IndexByte(base64URLAlphabet, secret[42])
	sloppy := good[:59] + string(base64URLAlphabet[last|1])
	if last&1 == 1 {
		sloppy = good[:59] + string(base64URLAlphabet[last&^3|2])
	}

	tests := []struct {
		name, key string
	}{
		{"empty", ""},
		{"scheme only", "sck_"},
		{"one more character", good + "A"},
		{"one character short", good[:59]},
		{"over-long", good + strings.Repeat("A", 1<<20)},
		{"padded", good + "="},
		{"wrong scheme", "sk__" + good[4:]},
		{"upper-case scheme", "SCK_" + good[4:]},
		{"upper-case id", good[:4] + strings.ToUpper(good[4:16]) + good[16:]},
		{"id outside base32", good[:4] + "0189abcdefgh" + good[16:]},
		{"separator", good[:16] + "-" + good[17:]},
		{"std base64 plus", good[:17] + "+" + good[18:]},
		{"std base64 slash", good[:17] + "/" + good[18:]},
		{"newline in secret", good[:17] + "\n" + good[18:]},
		{"NUL in secret", good[:17] + "\x00" + good[18:]},
		{"space in id", good[:4] + " " + good[5:]},
		{"non-canonical bits", sloppy},
		{"multi-byte", good[:57] + "é" + good[59:]},
		{"no separator", "sck_" + good[4:16] + secret + "A"},
		{"bearer prefix", "Bearer " + good[:53]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.key == good {
				t.Fatal("test case equals the good key")
			}
			if _, _, ok := parseKey(tt.key); ok {
				t.Errorf("parseKey accepted %q", tt.key)
			}
		})
	}
}

const base64URLAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

func FuzzParseKey(f *testing.F) {
	k, _, _ := newKey()
	f.Add(k.Reveal())
	f.Add("sck_aaaaaaaaaaaa_" + strings.Repeat("A", 43))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, secret, ok := parseKey(s)
		if !ok {
			return
		}
		if again := keyPrefix(id) + base64.RawURLEncoding.EncodeToString(secret); again != s {
			t.Fatalf("parse then encode gives %q, not %q", again, s)
		}
	})
}

// holders puts a key in the places a careless caller might print it from.
type holders struct {
	Exported   APIKey
	unexported APIKey
	Ptr        *APIKey
	Any        any
}

func TestAPIKeyNeverPrintsSecret(t *testing.T) {
	k, _, _ := newKey()
	secret := k.Reveal()[17:]
	values := map[string]any{
		"value":   k,
		"pointer": &k,
		"struct":  holders{k, k, &k, k},
		"struct*": &holders{k, k, &k, k},
		"slice":   []APIKey{k},
		"map":     map[string]APIKey{"k": k},
		"array":   [1]APIKey{k},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T", "%p",
		"%100v", "%-20s", "% x", "%#x", "%U", "%c", "%t", "%e", "%b", "%o"}
	for name, v := range values {
		for _, verb := range verbs {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, secret) {
				t.Errorf("%s with %s printed the secret: %s", name, verb, out)
			}
		}
		for _, out := range []string{fmt.Sprint(v), fmt.Sprintln(v)} {
			if strings.Contains(out, secret) {
				t.Errorf("%s with Sprint printed the secret", name)
			}
		}
	}
	if got, want := fmt.Sprint(k), "sck_"+k.ID()+"_…"; got != want {
		t.Errorf("Sprint = %q, want %q", got, want)
	}
	if got := fmt.Sprint(APIKey{}); strings.Contains(got, "sck_") {
		t.Errorf("zero key prints %q", got)
	}

	var buf bytes.Buffer
	for _, hd := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		slog.New(hd).Info("issued", "key", k, "holder", holders{Exported: k})
	}
	if strings.Contains(buf.String(), secret) {
		t.Errorf("slog printed the secret: %s", buf.String())
	}
}

func TestAPIKeyRefusesMarshal(t *testing.T) {
	k, _, _ := newKey()
	secret := k.Reveal()[17:]
	marshals := map[string]func(any) ([]byte, error){
		"json": json.Marshal,
		"xml":  xml.Marshal,
		"gob": func(v any) ([]byte, error) {
			var b bytes.Buffer
			err := gob.NewEncoder(&b).Encode(v)
			return b.Bytes(), err
		},
	}
	values := map[string]any{
		"value":  k,
		"struct": struct{ K APIKey }{k},
		"map":    map[string]APIKey{"k": k},
	}
	for mname, marshal := range marshals {
		for vname, v := range values {
			out, err := marshal(v)
			if err == nil {
				t.Errorf("%s marshalled a key in a %s: %s", mname, vname, out)
			}
			if strings.Contains(string(out), secret) || (err != nil && strings.Contains(err.Error(), secret)) {
				t.Errorf("%s of a %s leaked the secret", mname, vname)
			}
		}
	}
	if _, err := k.MarshalText(); err == nil {
		t.Error("MarshalText succeeded")
	}
	if _, err := k.MarshalBinary(); err == nil {
		t.Error("MarshalBinary succeeded")
	}
}
