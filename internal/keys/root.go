package keys

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/chacha20poly1305"
)

// RootKey is the top of the key hierarchy: it wraps every key-encryption
// key. It prints nothing secret and cannot be marshalled.
type RootKey struct{ s *secret }

// NewRootKey generates a random root key.
func NewRootKey() (RootKey, error) {
	s, err := newSecret()
	return RootKey{s}, err
}

// ID returns the root key's check value (not secret).
func (k RootKey) ID() string { return k.s.id() }

// Equal compares two root keys in constant time.
func (k RootKey) Equal(o RootKey) bool { return k.s.Equal(o.s) }

// String prints a placeholder, never the key.
func (k RootKey) String() string {
	if k.s == nil {
		return "RootKey(none)"
	}
	return "RootKey(" + k.ID() + ")"
}

// GoString prints the same placeholder as String.
func (k RootKey) GoString() string { return k.String() }

// Format prints the placeholder whatever the verb.
func (k RootKey) Format(f fmt.State, _ rune) { f.Write([]byte(k.String())) }

// MarshalJSON refuses: a root key is never serialized by accident.
func (k RootKey) MarshalJSON() ([]byte, error) { return nil, errMarshalSecret }

// MarshalText refuses for the same reason.
func (k RootKey) MarshalText() ([]byte, error) { return nil, errMarshalSecret }

// Wipe zeroes the key material.
func (k RootKey) Wipe() { k.s.wipe() }

// ErrNoRootKey means the provider holds no root key yet.
var ErrNoRootKey = errors.New("keys: no root key")

// Provider keeps the root key outside the keystore. A file, a passphrase and,
// later, a cloud KMS protect it in different ways; the keystore only asks a
// provider to load, save and replace it.
//
// Rotation of the root key is two-phase so that a crash never leaves the
// keystore wrapped under a key the provider has lost: the new key is staged,
// the keystore re-wraps its key-encryption keys in one transaction, then the
// staged key is promoted. On start, a keystore that finds its keys wrapped
// under the staged key finishes the promotion.
type Provider interface {
	// Kind names the provider ("file", "passphrase").
	Kind() string
	// Load returns the current root key, or ErrNoRootKey.
	Load(ctx context.Context) (RootKey, error)
	// Save stores k as the current root key, replacing any other.
	Save(ctx context.Context, k RootKey) error
	// Stage stores k beside the current key as its pending replacement.
	Stage(ctx context.Context, k RootKey) error
	// Staged returns the pending replacement, or ErrNoRootKey.
	Staged(ctx context.Context) (RootKey, error)
	// Promote makes the staged key current; Discard drops it.
	Promote(ctx context.Context) error
	Discard(ctx context.Context) error
}

// HintedError is an error with advice for the operator.
type HintedError struct {
	Err  error
	Hint string
}

func (e *HintedError) Error() string { return e.Err.Error() }
func (e *HintedError) Unwrap() error { return e.Err }

// FileProvider keeps the root key as 32 raw bytes in a file of mode 0600. It
// refuses a file that other users can read. In production the file belongs
// outside the data directory, so that no single copy holds both the data and
// every key.
type FileProvider struct {
	Path string
}

// Kind returns "file".
func (p *FileProvider) Kind() string { return "file" }

func (p *FileProvider) stagedPath() string { return p.Path + ".next" }

// Load reads the key file.
func (p *FileProvider) Load(context.Context) (RootKey, error) {
	return readKeyFile(p.Path)
}

func readKeyFile(path string) (RootKey, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return RootKey{}, ErrNoRootKey
	}
	if err != nil {
		return RootKey{}, &HintedError{
			Err:  fmt.Errorf("read root key: %w", err),
			Hint: "check that the root key file is readable by the user running securecart",
		}
	}
	if fi.Mode().Perm()&0o077 != 0 {
		return RootKey{}, &HintedError{
			Err:  fmt.Errorf("root key file %s is accessible to other users (mode %04o)", path, fi.Mode().Perm()),
			Hint: "run: chmod 600 " + path,
		}
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return RootKey{}, &HintedError{Err: fmt.Errorf("read root key: %w", err),
			Hint: "check that the root key file is readable by the user running securecart"}
	}
	defer clear(b)
	s, err := secretFrom(b)
	if err != nil {
		return RootKey{}, &HintedError{Err: fmt.Errorf("read root key %s: %w", path, err),
			Hint: "the file is not a SecureCart root key; restore it with 'securecart keys import-root'"}
	}
	return RootKey{s}, nil
}

// Save writes the key file atomically.
func (p *FileProvider) Save(_ context.Context, k RootKey) error {
	return writeKeyFile(p.Path, k)
}

// Stage writes the pending key beside the current one.
func (p *FileProvider) Stage(_ context.Context, k RootKey) error {
	return writeKeyFile(p.stagedPath(), k)
}

// Staged reads the pending key.
func (p *FileProvider) Staged(context.Context) (RootKey, error) {
	return readKeyFile(p.stagedPath())
}

// Promote renames the pending key over the current one.
func (p *FileProvider) Promote(context.Context) error {
	if err := os.Rename(p.stagedPath(), p.Path); err != nil {
		return fmt.Errorf("promote root key: %w", err)
	}
	return syncDir(filepath.Dir(p.Path))
}

// Discard removes the pending key.
func (p *FileProvider) Discard(context.Context) error {
	err := os.Remove(p.stagedPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func writeKeyFile(path string, k RootKey) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("write root key: %w", err)
	}
	f, err := os.CreateTemp(dir, ".rootkey-*")
	if err != nil {
		return fmt.Errorf("write root key: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write root key: %w", err)
	}
	if _, err := f.Write(k.s.b[:]); err != nil {
		f.Close()
		return fmt.Errorf("write root key: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("write root key: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write root key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write root key: %w", err)
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Argon2Params are the Argon2id cost parameters, stored with every
// passphrase-sealed blob so that it can be opened later with the same cost.
type Argon2Params struct {
	Time    uint32 `json:"time"`
	Memory  uint32 `json:"memory_kib"`
	Threads uint8  `json:"threads"`
}

// DefaultArgon2 follows RFC 9106's second recommended option.
var DefaultArgon2 = Argon2Params{Time: 3, Memory: 64 * 1024, Threads: 4}

// Bounds that a stored blob's parameters must respect, so that a tampered
// blob cannot make opening it take unbounded time or memory.
const (
	maxArgonTime   = 64
	maxArgonMemory = 4 << 20 // KiB: 4 GiB
)

// passphraseBlob is a key sealed under a key derived from a passphrase.
type passphraseBlob struct {
	Format string       `json:"format"`
	KDF    string       `json:"kdf"`
	Params Argon2Params `json:"params"`
	Salt   string       `json:"salt"`
	KeyID  string       `json:"key_id"`
	Sealed string       `json:"sealed"`
}

// ErrPassphrase means a passphrase did not open a sealed key. A wrong
// passphrase and a damaged blob are not told apart.
var ErrPassphrase = errors.New("keys: wrong passphrase or damaged key blob")

func sealWithPassphrase(format string, k RootKey, pass []byte, prm Argon2Params) ([]byte, error) {
	if len(pass) == 0 {
		return nil, errors.New("keys: empty passphrase")
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	kek := argon2.IDKey(pass, salt, prm.Time, prm.Memory, prm.Threads, chacha20poly1305.KeySize)
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	ct := aead.Seal(nonce, nonce, k.s.b[:], []byte(format))
	return json.MarshalIndent(passphraseBlob{
		Format: format, KDF: "argon2id", Params: prm,
		Salt:   base64.StdEncoding.EncodeToString(salt),
		KeyID:  k.ID(),
		Sealed: base64.StdEncoding.EncodeToString(ct),
	}, "", "  ")
}

func openWithPassphrase(format string, blob, pass []byte) (RootKey, error) {
	var b passphraseBlob
	if len(blob) > 4096 {
		return RootKey{}, ErrPassphrase
	}
	if err := json.Unmarshal(blob, &b); err != nil || b.Format != format || b.KDF != "argon2id" {
		return RootKey{}, ErrPassphrase
	}
	p := b.Params
	if p.Time == 0 || p.Time > maxArgonTime || p.Memory < 8 || p.Memory > maxArgonMemory || p.Threads == 0 {
		return RootKey{}, ErrPassphrase
	}
	salt, err1 := base64.StdEncoding.DecodeString(b.Salt)
	ct, err2 := base64.StdEncoding.DecodeString(b.Sealed)
	if err1 != nil || err2 != nil || len(salt) < 16 || len(ct) != chacha20poly1305.NonceSizeX+KeySize+16 {
		return RootKey{}, ErrPassphrase
	}
	kek := argon2.IDKey(pass, salt, p.Time, p.Memory, p.Threads, chacha20poly1305.KeySize)
	defer clear(kek)
	aead, err := chacha20poly1305.NewX(kek)
	if err != nil {
		return RootKey{}, ErrPassphrase
	}
	nonce := ct[:chacha20poly1305.NonceSizeX]
	pt, err := aead.Open(nil, nonce, ct[len(nonce):], []byte(format))
	if err != nil {
		return RootKey{}, ErrPassphrase
	}
	defer clear(pt)
	s, err := secretFrom(pt)
	if err != nil {
		return RootKey{}, ErrPassphrase
	}
	return RootKey{s}, nil
}

const exportFormat = "securecart-root-key-export-v1"

// ExportRoot seals k under a recovery passphrase, for disaster recovery.
func ExportRoot(k RootKey, passphrase []byte) ([]byte, error) {
	return sealWithPassphrase(exportFormat, k, passphrase, DefaultArgon2)
}

// ImportRoot opens an export made by ExportRoot.
func ImportRoot(blob, passphrase []byte) (RootKey, error) {
	return openWithPassphrase(exportFormat, blob, passphrase)
}

// MetaStore holds small named values beside the wrapped keys. The keystore
// implements it; the passphrase provider keeps its sealed root key there.
type MetaStore interface {
	GetMeta(ctx context.Context, name string) ([]byte, error) // ErrNoMeta if absent
	PutMeta(ctx context.Context, name string, value []byte) error
	DeleteMeta(ctx context.Context, name string) error
}

// ErrNoMeta means a meta value is absent.
var ErrNoMeta = errors.New("keys: no such meta value")

// PassphraseProvider keeps the root key sealed under a key derived from a
// passphrase with Argon2id; the parameters, the salt and the sealed key are
// stored beside the wrapped keys in the keystore, so every node of a cluster
// finds them. The passphrase itself is never stored.
type PassphraseProvider struct {
	Passphrase []byte
	Params     Argon2Params
	Meta       MetaStore
}

const (
	passphraseFormat = "securecart-root-key-passphrase-v1"
	metaRootSealed   = "root.passphrase"
	metaRootStaged   = "root.passphrase.next"
)

// Kind returns "passphrase".
func (p *PassphraseProvider) Kind() string { return "passphrase" }

func (p *PassphraseProvider) params() Argon2Params {
	if p.Params.Time == 0 {
		return DefaultArgon2
	}
	return p.Params
}

func (p *PassphraseProvider) load(ctx context.Context, name string) (RootKey, error) {
	blob, err := p.Meta.GetMeta(ctx, name)
	if errors.Is(err, ErrNoMeta) {
		return RootKey{}, ErrNoRootKey
	}
	if err != nil {
		return RootKey{}, err
	}
	k, err := openWithPassphrase(passphraseFormat, blob, p.Passphrase)
	if err != nil {
		return RootKey{}, &HintedError{Err: err,
			Hint: "check the passphrase (SECURECART_ROOT_PASSPHRASE or the prompt)"}
	}
	return k, nil
}

func (p *PassphraseProvider) save(ctx context.Context, name string, k RootKey) error {
	blob, err := sealWithPassphrase(passphraseFormat, k, p.Passphrase, p.params())
	if err != nil {
		return err
	}
	return p.Meta.PutMeta(ctx, name, blob)
}

// Load opens the sealed root key with the passphrase.
func (p *PassphraseProvider) Load(ctx context.Context) (RootKey, error) {
	return p.load(ctx, metaRootSealed)
}

// Save seals k under the passphrase with a fresh salt.
func (p *PassphraseProvider) Save(ctx context.Context, k RootKey) error {
	return p.save(ctx, metaRootSealed, k)
}

// Stage seals the pending key under the passphrase.
func (p *PassphraseProvider) Stage(ctx context.Context, k RootKey) error {
	return p.save(ctx, metaRootStaged, k)
}

// Staged opens the pending key.
func (p *PassphraseProvider) Staged(ctx context.Context) (RootKey, error) {
	return p.load(ctx, metaRootStaged)
}

// Promote replaces the current sealed key with the staged one.
func (p *PassphraseProvider) Promote(ctx context.Context) error {
	blob, err := p.Meta.GetMeta(ctx, metaRootStaged)
	if err != nil {
		return fmt.Errorf("promote root key: %w", err)
	}
	if err := p.Meta.PutMeta(ctx, metaRootSealed, blob); err != nil {
		return fmt.Errorf("promote root key: %w", err)
	}
	return p.Meta.DeleteMeta(ctx, metaRootStaged)
}

// Discard drops the staged key.
func (p *PassphraseProvider) Discard(ctx context.Context) error {
	return p.Meta.DeleteMeta(ctx, metaRootStaged)
}

// String prints the provider without its passphrase.
func (p *PassphraseProvider) String() string { return "PassphraseProvider([passphrase])" }

// GoString prints the same as String.
func (p *PassphraseProvider) GoString() string { return p.String() }

// Format prints the same as String whatever the verb.
func (p *PassphraseProvider) Format(f fmt.State, _ rune) { f.Write([]byte(p.String())) }
