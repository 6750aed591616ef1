package keys

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

// cheapArgon2 keeps passphrase tests fast; DefaultArgon2 is tested once.
var cheapArgon2 = Argon2Params{Time: 1, Memory: 64, Threads: 1}

func passphrase(db sqldb.DB, pass string) *PassphraseProvider {
	return &PassphraseProvider{Passphrase: []byte(pass), Params: cheapArgon2, Meta: Meta{db}}
}

func TestPassphraseProvider(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		ctx := t.Context()
		ks := openKeystore(t, e.h.DB, passphrase(e.h.DB, "correct horse"), Config{})
		v, _ := addOwner(t, ks, e.h.DB, envelope.CustomerPII, "c1")

		// The sealed root key is in ks_meta, with its parameters and check
		// value, and neither the passphrase nor the key is.
		blob, err := Meta{e.h.DB}.GetMeta(ctx, metaRootSealed)
		if err != nil {
			t.Fatalf("no sealed root key in ks_meta: %v", err)
		}
		var pb passphraseBlob
		if err := json.Unmarshal(blob, &pb); err != nil {
			t.Fatalf("sealed root key is not JSON: %v", err)
		}
		if pb.Format != passphraseFormat || pb.KDF != "argon2id" || pb.Params != cheapArgon2 ||
			pb.KeyID != ks.Root().ID() {
			t.Fatalf("sealed root key = %+v, want argon2id with %+v and key id %s", pb, cheapArgon2, ks.Root().ID())
		}
		if bytes.Contains(blob, []byte("correct horse")) {
			t.Fatal("the stored blob contains the passphrase")
		}
		assertNoLeak(t, "the stored blob", string(blob), ks.Root().s.b[:])

		// The same passphrase opens it again, on another handle.
		ks2 := openKeystore(t, e.h.Reopen(t), passphrase(e.h.DB, "correct horse"), Config{})
		if !ks2.Root().Equal(ks.Root()) {
			t.Fatal("reopening loaded another root key")
		}
		v.check(t, ks2)

		for _, wrong := range []string{"correct horse ", "Correct horse", "x"} {
			_, err := Open(ctx, e.h.Reopen(t), passphrase(e.h.DB, wrong), Config{})
			if !errors.Is(err, ErrPassphrase) {
				t.Fatalf("passphrase %q: err = %v, want ErrPassphrase", wrong, err)
			}
			if he := hinted(t, err); !strings.Contains(he.Hint, "passphrase") {
				t.Fatalf("hint %q does not mention the passphrase", he.Hint)
			}
		}
	})
}

func TestPassphraseProviderRefusesEmptyPassphrase(t *testing.T) {
	forEngines(t, func(t *testing.T, e *env) {
		if _, err := Open(t.Context(), e.h.DB, passphrase(e.h.DB, ""), Config{}); err == nil {
			t.Fatal("a keystore started with an empty passphrase")
		}
		if _, err := (Meta{e.h.DB}).GetMeta(t.Context(), metaRootSealed); !errors.Is(err, ErrNoMeta) {
			t.Fatalf("a root key was sealed under an empty passphrase: %v", err)
		}
	})
}

// TestExportImportDefaultParams is the one test that pays for DefaultArgon2.
func TestExportImportDefaultParams(t *testing.T) {
	k, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	blob, err := ExportRoot(k, []byte("recovery phrase"))
	if err != nil {
		t.Fatal(err)
	}
	var pb passphraseBlob
	if err := json.Unmarshal(blob, &pb); err != nil || pb.Params != DefaultArgon2 || pb.Format != exportFormat {
		t.Fatalf("export = %+v, %v; want %s with %+v", pb, err, exportFormat, DefaultArgon2)
	}
	assertNoLeak(t, "the export", string(blob), k.s.b[:])

	got, err := ImportRoot(blob, []byte("recovery phrase"))
	if err != nil {
		t.Fatal(err)
	}
	if !got.Equal(k) {
		t.Fatal("import gave another key")
	}
	if _, err := ImportRoot(blob, []byte("recovery phrase!")); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: err = %v, want ErrPassphrase", err)
	}
}

func TestImportRootRejects(t *testing.T) {
	k, err := NewRootKey()
	if err != nil {
		t.Fatal(err)
	}
	pass := []byte("recovery phrase")
	good, err := sealWithPassphrase(exportFormat, k, pass, cheapArgon2)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ImportRoot(good, pass); err != nil || !got.Equal(k) {
		t.Fatalf("the untouched blob does not import: %v", err)
	}

	// edit returns good with one change made to its decoded form.
	edit := func(change func(b *passphraseBlob)) []byte {
		var b passphraseBlob
		if err := json.Unmarshal(good, &b); err != nil {
			t.Fatal(err)
		}
		change(&b)
		out, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	flip := func(s string, i int) string {
		raw, _ := base64.StdEncoding.DecodeString(s)
		raw[i] ^= 1
		return base64.StdEncoding.EncodeToString(raw)
	}
	cases := []struct {
		name string
		blob []byte
		pass string
	}{
		{"wrong passphrase", good, "recovery phrasE"},
		{"empty passphrase", good, ""},
		{"flipped nonce", edit(func(b *passphraseBlob) { b.Sealed = flip(b.Sealed, 0) }), ""},
		{"flipped ciphertext", edit(func(b *passphraseBlob) { b.Sealed = flip(b.Sealed, 30) }), ""},
		{"flipped tag", edit(func(b *passphraseBlob) { b.Sealed = flip(b.Sealed, 24+KeySize+15) }), ""},
		{"flipped salt", edit(func(b *passphraseBlob) { b.Salt = flip(b.Salt, 3) }), ""},
		{"other time cost", edit(func(b *passphraseBlob) { b.Params.Time = 2 }), ""},
		{"other memory cost", edit(func(b *passphraseBlob) { b.Params.Memory = 128 }), ""},
		{"other format", edit(func(b *passphraseBlob) { b.Format = passphraseFormat }), ""},
		{"other kdf", edit(func(b *passphraseBlob) { b.KDF = "scrypt" }), ""},
		{"short salt", edit(func(b *passphraseBlob) { b.Salt = b.Salt[:12] }), ""},
		{"salt not base64", edit(func(b *passphraseBlob) { b.Salt = "%%%" }), ""},
		{"truncated sealed key", edit(func(b *passphraseBlob) { b.Sealed = b.Sealed[:40] }), ""},
		{"huge memory", edit(func(b *passphraseBlob) { b.Params.Memory = 1 << 31 }), ""},
		{"memory past the bound", edit(func(b *passphraseBlob) { b.Params.Memory = maxArgonMemory + 1 }), ""},
		{"memory too small", edit(func(b *passphraseBlob) { b.Params.Memory = 7 }), ""},
		{"huge time", edit(func(b *passphraseBlob) { b.Params.Time = 1 << 30 }), ""},
		{"zero time", edit(func(b *passphraseBlob) { b.Params.Time = 0 }), ""},
		{"zero threads", edit(func(b *passphraseBlob) { b.Params.Threads = 0 }), ""},
		{"oversized", append(bytes.Clone(good), bytes.Repeat([]byte(" "), 4096)...), ""},
		{"not JSON", []byte("securecart"), ""},
		{"empty", nil, ""},
		{"a passphrase-provider blob", mustSeal(t, passphraseFormat, k, pass), ""},
	}
	for _, tc := range cases {
		pass := pass
		if tc.pass != "" || tc.name == "empty passphrase" {
			pass = []byte(tc.pass)
		}
		start := time.Now()
		got, err := ImportRoot(tc.blob, pass)
		if !errors.Is(err, ErrPassphrase) || got.s != nil {
			t.Errorf("%s: ImportRoot = %v, %v; want ErrPassphrase", tc.name, got.s, err)
		}
		// Absurd parameters are refused before any work: at 2 TiB or
		// 2^30 passes the derivation would never finish.
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refusing took %v", tc.name, d)
		}
	}
}

func mustSeal(t *testing.T, format string, k RootKey, pass []byte) []byte {
	t.Helper()
	b, err := sealWithPassphrase(format, k, pass, cheapArgon2)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
