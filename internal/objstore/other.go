package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/minio/minio-go/v7"
)

// Others reads the buckets of the same storage that SecureCart does not
// manage, such as a shop's exports or invoices, for a reader that looks
// at everything stored there (the sensitive-data scanner). Their objects
// were written by other tools: they carry no checksum of SecureCart's,
// keys of any form, and any size, so they are streamed rather than read
// whole. Both Local and S3 implement it.
type Others interface {
	// ListOther returns the objects of bucket whose keys start with
	// prefix, in key order, with their sizes.
	ListOther(ctx context.Context, bucket, prefix string) ([]Info, error)
	// OpenOther streams one object of bucket as stored.
	OpenOther(ctx context.Context, bucket, key string) (io.ReadCloser, error)
}

// IsOwnBucket reports whether bucket is one of SecureCart's own (Buckets).
func IsOwnBucket(bucket string) bool { return validBucket(bucket) }

// ValidOtherBucket reports whether name can name another bucket: S3's
// rules for a bucket name (3 to 63 lowercase letters, digits, '.' and
// '-', starting and ending with a letter or digit, no "..") and not one
// of SecureCart's own buckets.
func ValidOtherBucket(name string) bool {
	if len(name) < 3 || len(name) > 63 || validBucket(name) || strings.Contains(name, "..") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || i == len(name)-1 || c != '.' && c != '-') {
			return false
		}
	}
	return true
}

func checkOther(bucket string) error {
	if !ValidOtherBucket(bucket) {
		return fmt.Errorf("%w: bucket %q", ErrInvalidKey, bucket)
	}
	return nil
}

// ListOther implements Others: another bucket of a local store is a
// folder beside SecureCart's own, under the store's root, and its objects
// are the regular files in it, keyed by their slash-separated paths.
// Symbolic links are not followed.
func (l *Local) ListOther(ctx context.Context, bucket, prefix string) ([]Info, error) {
	if err := checkOther(bucket); err != nil {
		return nil, err
	}
	dir := filepath.Join(l.root, bucket)
	var out []Info
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		key := filepath.ToSlash(rel)
		if d.IsDir() {
			// Skip folders that cannot hold a key with the prefix.
			if key != "." && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, Info{Bucket: bucket, Key: key, Size: info.Size(), Class: Standard,
			Modified: info.ModTime().UTC()})
		return nil
	})
	if errors.Is(err, fs.ErrNotExist) && out == nil {
		return nil, fmt.Errorf("list %s: %w", bucket, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, err)
	}
	return out, nil
}

// OpenOther implements Others. The file is opened inside the bucket's
// folder only: a key that would leave it, through ".." or a symbolic
// link, is refused.
func (l *Local) OpenOther(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	if err := checkOther(bucket); err != nil {
		return nil, err
	}
	if key == "" || path.IsAbs(key) || path.Clean(key) != key || strings.HasPrefix(key, "../") || key == ".." {
		return nil, fmt.Errorf("%w: %q/%q", ErrInvalidKey, bucket, key)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	root, err := os.OpenRoot(filepath.Join(l.root, bucket))
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", bucket, key, err)
	}
	defer root.Close()
	f, err := root.Open(filepath.FromSlash(key))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open %s/%s: %w", bucket, key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open %s/%s: %w", bucket, key, err)
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("open %s/%s: not a regular file", bucket, key)
	}
	return f, nil
}

// ListOther implements Others: bucket is the service's bucket of that
// exact name, without the store's BucketPrefix. The name of one of
// SecureCart's own buckets with the prefix is refused: name it without.
func (s *S3) ListOther(ctx context.Context, bucket, prefix string) ([]Info, error) {
	if err := s.checkOther(bucket); err != nil {
		return nil, err
	}
	var out []Info
	for o := range s.c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.err("list", bucket, prefix, o.Err)
		}
		c := Class(o.StorageClass)
		if !c.Valid() {
			c = Standard
		}
		out = append(out, Info{Bucket: bucket, Key: o.Key, Size: o.Size, Class: c, Modified: o.LastModified.UTC()})
	}
	return out, nil
}

func (s *S3) checkOther(bucket string) error {
	if err := checkOther(bucket); err != nil {
		return err
	}
	if own, ok := strings.CutPrefix(bucket, s.prefix); ok && s.prefix != "" && validBucket(own) {
		return fmt.Errorf("%w: bucket %q is SecureCart's %s bucket; name it %q", ErrInvalidKey, bucket, own, own)
	}
	return nil
}

// OpenOther implements Others.
func (s *S3) OpenOther(ctx context.Context, bucket, key string) (io.ReadCloser, error) {
	if err := s.checkOther(bucket); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, fmt.Errorf("%w: %q/%q", ErrInvalidKey, bucket, key)
	}
	obj, err := s.c.GetObject(ctx, bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, s.err("open", bucket, key, err)
	}
	// GetObject sends nothing until the first read; Stat makes a missing
	// object an error here rather than in the middle of a scan.
	if _, err := obj.Stat(); err != nil {
		obj.Close()
		return nil, s.err("open", bucket, key, err)
	}
	return obj, nil
}
