package keys

import (
	"bytes"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/securecart/securecart/internal/envelope"
)

// wantBlindToken computes a token from the package doc's definition.
func wantBlindToken(t *testing.T, ks *Keystore, v uint32, field, value string) []byte {
	t.Helper()
	kk, err := ks.kekVersion(envelope.BlindIndex, v)
	if err != nil {
		t.Fatal(err)
	}
	key, err := hkdf.Key(sha256.New, kk.material.b[:], nil, "securecart blind index", 32)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(field + "\x00" + value))
	return append(binary.BigEndian.AppendUint32(nil, v), m.Sum(nil)[:12]...)
}

func TestBlindToken(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		token := func(ks *Keystore, field, value string) []byte {
			t.Helper()
			tok, err := ks.BlindToken(field, []byte(value))
			if err != nil {
				t.Fatal(err)
			}
			if len(tok) != BlindTokenSize {
				t.Fatalf("token of %d bytes, want %d", len(tok), BlindTokenSize)
			}
			return tok
		}

		base := token(ks, "email", "ada@example.com")
		if BlindVersion(base) != 1 {
			t.Fatalf("BlindVersion = %d, want 1", BlindVersion(base))
		}
		if want := wantBlindToken(t, ks, 1, "email", "ada@example.com"); !bytes.Equal(base, want) {
			t.Fatalf("token %x, want %x from the documented construction", base, want)
		}
		if again := token(ks, "email", "ada@example.com"); !bytes.Equal(again, base) {
			t.Fatal("the same value gave two tokens")
		}
		if later := token(e.reopen(Config{}), "email", "ada@example.com"); !bytes.Equal(later, base) {
			t.Fatal("a restarted keystore gives another token for the same value")
		}

		differ := []struct{ name, field, value string }{
			{"another value", "email", "bob@example.com"},
			{"a value one byte longer", "email", "ada@example.com."},
			{"another field", "phone", "ada@example.com"},
			{"field and value split elsewhere", "emaila", "da@example.com"},
			{"empty value", "email", ""},
		}
		for _, d := range differ {
			if bytes.Equal(token(ks, d.field, d.value), base) {
				t.Errorf("%s: same token", d.name)
			}
		}

		// Another deployment's key gives other tokens.
		other := e.freshKeystore()
		if bytes.Equal(token(other, "email", "ada@example.com"), base) {
			t.Fatal("two keystores gave the same token")
		}

		for _, bad := range [][]byte{nil, base[:BlindTokenSize-1], append(bytes.Clone(base), 0)} {
			if v := BlindVersion(bad); v != 0 {
				t.Errorf("BlindVersion of %d bytes = %d, want 0", len(bad), v)
			}
		}
	})
}

func TestBlindTokenAfterRotate(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		value := []byte("ada@example.com")
		old, err := ks.BlindToken("email", value)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := ks.Rotate(t.Context(), envelope.BlindIndex); err != nil || v != 2 {
			t.Fatalf("Rotate = %d, %v", v, err)
		}

		for _, k := range []*Keystore{ks, e.reopen(Config{})} {
			tokens, err := k.BlindTokens("email", value)
			if err != nil || len(tokens) != 2 {
				t.Fatalf("BlindTokens = %x, %v; want 2 tokens", tokens, err)
			}
			if BlindVersion(tokens[0]) != 2 || BlindVersion(tokens[1]) != 1 {
				t.Fatalf("token versions %d, %d; want 2 then 1", BlindVersion(tokens[0]), BlindVersion(tokens[1]))
			}
			if !bytes.Equal(tokens[1], old) {
				t.Fatal("the version 1 token changed with the rotation")
			}
			if want := wantBlindToken(t, k, 2, "email", string(value)); !bytes.Equal(tokens[0], want) {
				t.Fatalf("version 2 token %x, want %x", tokens[0], want)
			}
			cur, err := k.BlindToken("email", value)
			if err != nil || !bytes.Equal(cur, tokens[0]) {
				t.Fatalf("BlindToken = %x, %v; want the version 2 token %x", cur, err, tokens[0])
			}
		}
	})
}
