package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Local is a Store in a folder: one subfolder per bucket, one file per
// object. Each file starts with a 48-byte header (a magic string, the
// storage class, the SHA-256 of the data) followed by the data. A Put
// writes a temporary file in the target folder, fsyncs it, renames it over
// the key and fsyncs the folder, so a crash leaves either the old object or
// the new one, never a torn one.
type Local struct {
	root string
}

const (
	localMagic  = "SCOBJ01\n"
	localHeader = 48
	tmpPrefix   = ".tmp-"
)

var classCodes = []Class{Standard, StandardIA, GlacierIR}

// NewLocal opens (creating if needed, mode 0700) a local store under root.
func NewLocal(root string) (*Local, error) {
	for _, b := range Buckets {
		if err := os.MkdirAll(filepath.Join(root, b), 0o700); err != nil {
			return nil, fmt.Errorf("open local object store: %w", err)
		}
	}
	return &Local{root: root}, nil
}

// Root returns the store's folder.
func (l *Local) Root() string { return l.root }

func (l *Local) path(bucket, key string) string {
	return filepath.Join(l.root, bucket, filepath.FromSlash(key))
}

// Put implements Store.
func (l *Local) Put(ctx context.Context, bucket, key string, data []byte, class Class) (Info, error) {
	if err := check(bucket, key); err != nil {
		return Info{}, err
	}
	if !class.Valid() {
		return Info{}, fmt.Errorf("%w: class %q", ErrInvalidKey, class)
	}
	if len(data) > MaxObjectSize {
		return Info{}, ErrTooLarge
	}
	if err := ctx.Err(); err != nil {
		return Info{}, err
	}
	sum := sha256.Sum256(data)
	path := l.path(bucket, key)
	if err := writeAtomic(path, header(class, sum), data); err != nil {
		return Info{}, fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	return l.Stat(ctx, bucket, key)
}

func header(class Class, sum [32]byte) []byte {
	h := make([]byte, localHeader)
	copy(h, localMagic)
	for i, c := range classCodes {
		if c == class {
			h[8] = byte(i + 1)
		}
	}
	copy(h[16:], sum[:])
	return h
}

func writeAtomic(path string, hdr, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, tmpPrefix+"*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(hdr)
	if err == nil {
		_, err = f.Write(data)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return err
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

// parseHeader checks the header of a local object file.
func parseHeader(h []byte) (Class, [32]byte, error) {
	var sum [32]byte
	if len(h) < localHeader || string(h[:8]) != localMagic || h[8] == 0 || int(h[8]) > len(classCodes) ||
		!bytes.Equal(h[9:16], make([]byte, 7)) {
		return "", sum, ErrChecksum
	}
	copy(sum[:], h[16:localHeader])
	return classCodes[h[8]-1], sum, nil
}

// Get implements Store.
func (l *Local) Get(ctx context.Context, bucket, key string) ([]byte, Info, error) {
	if err := check(bucket, key); err != nil {
		return nil, Info{}, err
	}
	f, err := os.Open(l.path(bucket, key))
	if err != nil {
		return nil, Info{}, notFound(bucket, key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, ErrNotFound)
	}
	if fi.Size() > MaxObjectSize+localHeader {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, ErrTooLarge)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	class, sum, err := parseHeader(b)
	if err != nil {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	data := b[localHeader:]
	if sha256.Sum256(data) != sum {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, ErrChecksum)
	}
	info := Info{Bucket: bucket, Key: key, Size: int64(len(data)), Class: class, SHA256: sum,
		Modified: fi.ModTime().UTC()}
	return data, info, nil
}

func notFound(bucket, key string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s/%s: %w", bucket, key, ErrNotFound)
	}
	return fmt.Errorf("%s/%s: %w", bucket, key, err)
}

// Stat implements Store.
func (l *Local) Stat(ctx context.Context, bucket, key string) (Info, error) {
	if err := check(bucket, key); err != nil {
		return Info{}, err
	}
	return l.stat(bucket, key)
}

func (l *Local) stat(bucket, key string) (Info, error) {
	f, err := os.Open(l.path(bucket, key))
	if err != nil {
		return Info{}, notFound(bucket, key, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("stat %s/%s: %w", bucket, key, ErrNotFound)
	}
	h := make([]byte, localHeader)
	if _, err := io.ReadFull(f, h); err != nil {
		return Info{}, fmt.Errorf("stat %s/%s: %w", bucket, key, ErrChecksum)
	}
	class, sum, err := parseHeader(h)
	if err != nil {
		return Info{}, fmt.Errorf("stat %s/%s: %w", bucket, key, err)
	}
	return Info{Bucket: bucket, Key: key, Size: fi.Size() - localHeader, Class: class, SHA256: sum,
		Modified: fi.ModTime().UTC()}, nil
}

// List implements Store.
func (l *Local) List(ctx context.Context, bucket, prefix string) ([]Info, error) {
	if !validBucket(bucket) || !validPrefix(prefix) {
		return nil, fmt.Errorf("%w: %q/%q", ErrInvalidKey, bucket, prefix)
	}
	base := filepath.Join(l.root, bucket)
	// Walk only the folder the prefix names, not the whole bucket.
	start := base
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(base, filepath.FromSlash(prefix[:i]))
	}
	var out []Info
	err := filepath.WalkDir(start, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() || strings.HasPrefix(d.Name(), tmpPrefix) {
			return nil
		}
		rel, err := filepath.Rel(base, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) || !ValidKey(key) {
			return nil
		}
		info, err := l.stat(bucket, key)
		if errors.Is(err, ErrNotFound) {
			return nil // deleted while listing
		}
		if err != nil {
			return err
		}
		out = append(out, info)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

// Delete implements Store.
func (l *Local) Delete(ctx context.Context, bucket, key string) error {
	if err := check(bucket, key); err != nil {
		return err
	}
	path := l.path(bucket, key)
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	return syncDir(filepath.Dir(path))
}
