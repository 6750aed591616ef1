package keys

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/securecart/securecart/internal/envelope"
)

const testLog = "shop.example/audit"

func signNote(t *testing.T, s note.Signer, text string) []byte {
	t.Helper()
	msg, err := note.Sign(&note.Note{Text: text}, s)
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

func openNote(msg []byte, vkey string) error {
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return err
	}
	_, err = note.Open(msg, note.VerifierList(v))
	return err
}

func TestAuditSigner(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		s, err := ks.AuditSigner(testLog)
		if err != nil {
			t.Fatal(err)
		}
		if s.Name() != testLog {
			t.Fatalf("name %q", s.Name())
		}
		msg := signNote(t, s, "hello\n")
		vkeys, err := ks.AuditVerifierKeys(testLog)
		if err != nil || len(vkeys) != 1 {
			t.Fatalf("verifier keys %v, %v", vkeys, err)
		}
		if err := openNote(msg, vkeys[0]); err != nil {
			t.Fatalf("note does not verify with the verifier key: %v", err)
		}

		// The key is the documented derivation of the active KEK.
		kk, err := ks.kekVersion(envelope.AuditSigning, 1)
		if err != nil {
			t.Fatal(err)
		}
		seed, err := hkdf.Key(sha256.New, kk.material.b[:], nil, "securecart audit signing", 32)
		if err != nil {
			t.Fatal(err)
		}
		pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
		want, err := note.NewEd25519VerifierKey(testLog, pub)
		if err != nil {
			t.Fatal(err)
		}
		if vkeys[0] != want {
			t.Fatalf("verifier key %q, want %q", vkeys[0], want)
		}

		// A restarted keystore signs with the same key.
		again, err := e.reopen(Config{}).AuditVerifierKeys(testLog)
		if err != nil || again[0] != vkeys[0] {
			t.Fatalf("after reopen: %v, %v", again, err)
		}

		// Another deployment's key does not verify.
		other, err := e.freshKeystore().AuditVerifierKeys(testLog)
		if err != nil {
			t.Fatal(err)
		}
		if err := openNote(msg, other[0]); err == nil {
			t.Fatal("another deployment's key verified the note")
		}

		// Rotation: new signatures use the new key; both keys are listed.
		if _, err := ks.Rotate(t.Context(), envelope.AuditSigning); err != nil {
			t.Fatal(err)
		}
		s2, err := ks.AuditSigner(testLog)
		if err != nil {
			t.Fatal(err)
		}
		msg2 := signNote(t, s2, "after rotation\n")
		both, err := ks.AuditVerifierKeys(testLog)
		if err != nil || len(both) != 2 || both[1] != vkeys[0] {
			t.Fatalf("after rotation: %v, %v", both, err)
		}
		if openNote(msg2, both[0]) != nil || openNote(msg2, vkeys[0]) == nil {
			t.Fatal("the rotated signer does not use the new key")
		}
	})
}

func TestAuditSignerDoesNotPrintKey(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ks := e.open(Config{})
		s, err := ks.AuditSigner(testLog)
		if err != nil {
			t.Fatal(err)
		}
		priv := s.(*auditSigner).priv
		js, _ := json.Marshal(s)
		for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %x", s, s, s, s), string(js)} {
			if bytes.Contains([]byte(out), priv.Seed()) || strings.Contains(out, fmt.Sprintf("%x", priv.Seed())) {
				t.Fatalf("formatting the signer printed the key: %q", out)
			}
		}
		if _, err := ks.AuditSigner("bad name"); err == nil {
			t.Fatal("a name with a space was accepted")
		}
	})
}
