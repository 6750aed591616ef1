package keys

import (
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
	"fmt"

	"golang.org/x/mod/sumdb/note"

	"github.com/securecart/securecart/internal/envelope"
)

// Audit signing
//
// The audit log signs its checkpoints with an Ed25519 key derived from a
// version of the audit-signing KEK:
//
//	seed = HKDF-SHA-256(KEK_v, salt = none, info = "securecart audit signing", 32 bytes)
//	key  = ed25519.NewKeyFromSeed(seed)
//
// The private key lives only inside the signer AuditSigner returns, which
// signs and prints nothing else. Rotating the domain gives a new key;
// AuditVerifierKeys lists the public keys of every live version so that
// older checkpoints still verify.

const auditSigningInfo = "securecart audit signing"

// auditSigner is a note.Signer over a derived key.
type auditSigner struct {
	name string
	hash uint32
	priv ed25519.PrivateKey
}

func (s *auditSigner) Name() string                    { return s.name }
func (s *auditSigner) KeyHash() uint32                 { return s.hash }
func (s *auditSigner) Sign(msg []byte) ([]byte, error) { return ed25519.Sign(s.priv, msg), nil }
func (s *auditSigner) String() string                  { return "audit signer " + s.name }
func (s *auditSigner) GoString() string                { return s.String() }

func (k *Keystore) auditKey(kk *kek) (ed25519.PrivateKey, error) {
	if kk.material == nil {
		return nil, ErrKeyDestroyed
	}
	seed, err := hkdf.Key(sha256.New, kk.material.b[:], nil, auditSigningInfo, ed25519.SeedSize)
	if err != nil {
		return nil, fmt.Errorf("derive audit signing key: %w", err)
	}
	defer clear(seed)
	return ed25519.NewKeyFromSeed(seed), nil
}

// verifierKey returns the note verifier key of priv under name.
func verifierKey(name string, priv ed25519.PrivateKey) (string, uint32, error) {
	vkey, err := note.NewEd25519VerifierKey(name, priv.Public().(ed25519.PublicKey))
	if err != nil {
		return "", 0, fmt.Errorf("audit verifier key: %w", err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		return "", 0, fmt.Errorf("audit verifier key: %w", err)
	}
	return vkey, v.KeyHash(), nil
}

// AuditSigner returns a signer for signed notes named name, under the
// active audit-signing key version.
func (k *Keystore) AuditSigner(name string) (note.Signer, error) {
	kk, err := k.active(envelope.AuditSigning)
	if err != nil {
		return nil, err
	}
	priv, err := k.auditKey(kk)
	if err != nil {
		return nil, err
	}
	_, hash, err := verifierKey(name, priv)
	if err != nil {
		return nil, err
	}
	return &auditSigner{name: name, hash: hash, priv: priv}, nil
}

// AuditVerifierKeys returns the note verifier keys (name+hash+key, the
// public half only) of every live audit-signing version, newest first.
func (k *Keystore) AuditVerifierKeys(name string) ([]string, error) {
	k.mu.RLock()
	list := append([]*kek(nil), k.keks[envelope.AuditSigning]...)
	k.mu.RUnlock()
	var out []string
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].state == Destroyed || list[i].material == nil {
			continue
		}
		priv, err := k.auditKey(list[i])
		if err != nil {
			return nil, err
		}
		vkey, _, err := verifierKey(name, priv)
		clear(priv)
		if err != nil {
			return nil, err
		}
		out = append(out, vkey)
	}
	if len(out) == 0 {
		return nil, errors.New("keys: no live audit-signing key")
	}
	return out, nil
}
