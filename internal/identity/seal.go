package identity

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// SecretSealer seals the TOTP secrets the directory stores. The verifier
// needs a secret in clear, so it cannot be hashed like a password.
type SecretSealer interface {
	Seal(ctx context.Context, principalID string, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, principalID string, sealed []byte) ([]byte, error)
}

// SetSealer makes the directory seal TOTP secrets with s from now on.
// Secrets stored unsealed before still verify. Call it before use.
func (d *Directory) SetSealer(s SecretSealer) { d.sealer = s }

// sealedPrefix marks a stored secret as sealed: "v1:" and the base64 of
// the sealer's output. An unsealed secret is base32, which has no ':'.
const sealedPrefix = "v1:"

var errSecret = errors.New("identity: stored TOTP secret does not open")

// storeSecret gives the stored form of a new TOTP secret.
func (d *Directory) storeSecret(ctx context.Context, id, secret string) (string, error) {
	if d.sealer == nil {
		return secret, nil
	}
	sealed, err := d.sealer.Seal(ctx, id, []byte(secret))
	if err != nil {
		return "", fmt.Errorf("seal totp secret: %w", err)
	}
	return sealedPrefix + base64.StdEncoding.EncodeToString(sealed), nil
}

// loadSecret returns a stored secret in clear ("" stays "").
func (d *Directory) loadSecret(ctx context.Context, id, stored string) (string, error) {
	enc, sealed := strings.CutPrefix(stored, sealedPrefix)
	if !sealed {
		return stored, nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(enc)
	if err != nil || d.sealer == nil {
		return "", errSecret
	}
	pt, err := d.sealer.Open(ctx, id, b)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errSecret, err)
	}
	defer clear(pt)
	return string(pt), nil
}

// KeystoreSealer seals TOTP secrets in ks's customer-pii domain, under a
// data key of the person's own (assigned in db on first use), bound to the
// credentials table and the person's id: a second factor is personal data
// of staff, kept under the same keys and rotation as the customers'.
func KeystoreSealer(ks *keys.Keystore, db sqldb.DB) SecretSealer { return keystoreSealer{ks, db} }

type keystoreSealer struct {
	ks *keys.Keystore
	db sqldb.DB
}

func totpBinding(id string) envelope.Binding {
	return envelope.Binding{Table: "identity_credentials", Column: "totp", Row: id}
}

func (s keystoreSealer) Seal(ctx context.Context, id string, pt []byte) ([]byte, error) {
	out, err := s.ks.SealFor(ctx, envelope.CustomerPII, id, totpBinding(id), pt)
	if !errors.Is(err, keys.ErrNoActiveKey) {
		return out, err
	}
	// The person's first secret: give them a data key.
	key, err := s.ks.NewDataKey(ctx, envelope.CustomerPII)
	if err != nil {
		return nil, err
	}
	if err := s.db.Write(ctx, func(tx sqldb.Tx) error { return s.ks.Assign(ctx, tx, key, id) }); err != nil {
		return nil, err
	}
	s.ks.Assigned(key, id)
	return s.ks.SealWith(ctx, key, totpBinding(id), pt)
}

func (s keystoreSealer) Open(ctx context.Context, id string, sealed []byte) ([]byte, error) {
	return s.ks.Open(ctx, sealed, totpBinding(id))
}
