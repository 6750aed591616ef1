package tlsca

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// The sentinel errors callers can match with errors.Is.
var (
	// ErrMalformedPEM reports a PEM file that is not exactly what this
	// package writes: one block of the expected type and nothing else.
	ErrMalformedPEM = errors.New("malformed PEM file")

	// ErrKeyFileMode reports a private key file that other users can access.
	ErrKeyFileMode = errors.New("key file permissions too open")
)

// Size limits for the files this package reads.
const (
	maxCAFileSize       = 64 << 10
	maxOperatorFileSize = 1 << 20
)

// Block types of the PEM files this package writes.
const (
	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
)

// decodeOnePEM returns the contents of the single PEM block in data. It
// rejects anything but whitespace around the block, PEM headers, a second
// block and a block of another type.
func decodeOnePEM(data []byte, blockType string) ([]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if !bytes.HasPrefix(trimmed, []byte("-----BEGIN ")) {
		return nil, fmt.Errorf("find %s block: %w", blockType, ErrMalformedPEM)
	}
	block, rest := pem.Decode(trimmed)
	if block == nil {
		return nil, fmt.Errorf("decode %s block: %w", blockType, ErrMalformedPEM)
	}
	if block.Type != blockType {
		return nil, fmt.Errorf("decode %s block: found %q: %w", blockType, block.Type, ErrMalformedPEM)
	}
	if len(block.Headers) != 0 {
		return nil, fmt.Errorf("decode %s block: unexpected headers: %w", blockType, ErrMalformedPEM)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("decode %s block: data after the block: %w", blockType, ErrMalformedPEM)
	}
	return block.Bytes, nil
}

// readLimited reads a whole file of at most limit bytes.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return readAllLimited(f, path, limit)
}

func readAllLimited(f io.Reader, path string, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("read %s: larger than %d bytes", path, limit)
	}
	return data, nil
}

// readKeyFile reads a private key file after checking, on the opened file,
// that its mode grants nothing in forbidden (0o077 for the CA key: neither
// group nor others; 0o007 for operator keys: not others).
func readKeyFile(path string, forbidden fs.FileMode, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()

	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("read %s: not a regular file", path)
	}
	if mode := fi.Mode().Perm(); runtime.GOOS != "windows" && mode&forbidden != 0 {
		return nil, fmt.Errorf("read %s: mode %04o gives other users access; run: chmod 600 %s: %w",
			path, mode, path, ErrKeyFileMode)
	}
	return readAllLimited(f, path, limit)
}

// writeFileAtomic writes data to path through a temporary file in the same
// directory, with the given mode whatever the umask, synced before and after
// the rename so that a crash leaves either the whole file or none.
func writeFileAtomic(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename

	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
