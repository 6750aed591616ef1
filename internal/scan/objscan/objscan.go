// Package objscan scans the objects of a bucket of the object storage for
// sensitive data, the way `securecart scan` scans files: gzip and zstd
// objects are decompressed, binary ones skipped with a note.
//
// # Buckets
//
// A target is BUCKET or BUCKET/PREFIX. BUCKET is either one of
// SecureCart's own buckets (backups, audit, logs, archive; objstore.Buckets)
// or any other bucket of the same storage, such as the shop's exports or
// invoices: on S3 the service's bucket of that exact name, in a local
// store a folder of that name beside SecureCart's own.
//
// Objects of other buckets were written by other tools; they are streamed
// through the scanner, so memory stays bounded whatever their size.
// Objects of SecureCart's own buckets are read whole, as the object store
// returns them (at most objstore.MaxObjectSize), after it checked them
// against their checksums.
//
// # Sealed objects
//
// An object SecureCart sealed with its own keys (an envelope, package
// envelope: the backup segments, snapshot parts and manifests) is
// ciphertext to the scanner. Given an Opener, Scan hands such an object to
// it and scans the plaintext it returns, in memory: the plaintext is never
// written anywhere. Without an Opener, or when it cannot open the object,
// the object is reported as skipped and the note says why.
//
// # Limits
//
//   - `securecart scan` opens the sealed objects of the backups bucket
//     (backup.OpenObject) and the audit trail's shipped and archived
//     segments (audit.OpenArchived), whose binary records it scans as
//     OCSF JSON lines. SecureCart writes no archives of its application
//     log yet.
//   - An object of SecureCart's own buckets, and the plaintext of a sealed
//     one, is held in memory whole while it is scanned: up to
//     objstore.MaxObjectSize (256 MiB) and its plaintext.
//   - A listing is taken before the scan starts: objects written during
//     the scan may be missed, and one deleted meanwhile is reported as
//     skipped.
package objscan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/scan"
)

// Storage is the object storage a scan reads: SecureCart's own buckets
// and the others beside them. objstore.Local and objstore.S3 implement it.
type Storage interface {
	objstore.Store
	objstore.Others
}

// Opener opens an object SecureCart sealed, in memory, and returns its
// plaintext (which may be compressed: the scanner decompresses it).
type Opener func(ctx context.Context, bucket, key string, sealed []byte) ([]byte, error)

// ErrNoOpener is what an Opener returns for a sealed object it has no
// reader for.
var ErrNoOpener = errors.New("no reader for sealed objects of this bucket")

// Target is a bucket and a key prefix within it.
type Target struct {
	Bucket, Prefix string
}

// ParseTarget splits "BUCKET[/PREFIX]" and checks the bucket's name.
func ParseTarget(s string) (Target, error) {
	bucket, prefix, _ := strings.Cut(s, "/")
	if !objstore.IsOwnBucket(bucket) && !objstore.ValidOtherBucket(bucket) {
		return Target{}, fmt.Errorf("scan bucket: %q is not a bucket name (SecureCart's buckets: %s; "+
			"others: 3 to 63 lowercase letters, digits, '.' and '-')", bucket, strings.Join(objstore.Buckets, ", "))
	}
	return Target{Bucket: bucket, Prefix: prefix}, nil
}

// Name is how findings name an object.
func Name(bucket, key string) string { return "objstore://" + bucket + "/" + key }

// List returns the objects of t.
func List(ctx context.Context, st Storage, t Target) ([]objstore.Info, error) {
	var infos []objstore.Info
	var err error
	if objstore.IsOwnBucket(t.Bucket) {
		infos, err = st.List(ctx, t.Bucket, t.Prefix)
	} else {
		infos, err = st.ListOther(ctx, t.Bucket, t.Prefix)
	}
	if err != nil {
		return nil, fmt.Errorf("scan bucket %s: %w", t.Bucket, err)
	}
	return infos, nil
}

// Scan scans objects, as List returned them, calling emit with each
// finding and done with each object. open, which may be nil, opens
// SecureCart's sealed objects; progress, which may be nil, is told of the
// stored bytes read.
func Scan(ctx context.Context, st Storage, objects []objstore.Info, sc *scan.Scanner, open Opener,
	progress func(int64), emit func(scan.Finding), done func(scan.Object)) error {
	for _, info := range objects {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := Name(info.Bucket, info.Key)
		if sc.Allow().AllowsPath(name) {
			done(scan.Object{Name: name, Skipped: "allow-listed path"})
			continue
		}
		if objstore.IsOwnBucket(info.Bucket) {
			done(scanOwn(ctx, st, info, name, sc, open, progress, emit))
			continue
		}
		r, err := st.OpenOther(ctx, info.Bucket, info.Key)
		if err != nil {
			done(scan.Object{Name: name, Skipped: err.Error()})
			continue
		}
		obj := sc.Object(ctx, name, r, progress, emit)
		r.Close()
		done(obj)
	}
	return nil
}

// scanOwn scans an object of SecureCart's own buckets, opening it first
// when it is sealed.
func scanOwn(ctx context.Context, st Storage, info objstore.Info, name string, sc *scan.Scanner,
	open Opener, progress func(int64), emit func(scan.Finding)) scan.Object {
	data, _, err := st.Get(ctx, info.Bucket, info.Key)
	if err != nil {
		return scan.Object{Name: name, Skipped: err.Error()}
	}
	if progress != nil {
		progress(int64(len(data)))
	}
	if !sealed(data) {
		return sc.Object(ctx, name, bytes.NewReader(data), nil, emit)
	}
	if open == nil {
		return scan.Object{Name: name, Skipped: "sealed by SecureCart; not opened"}
	}
	plain, err := open(ctx, info.Bucket, info.Key, data)
	if err != nil {
		return scan.Object{Name: name, Skipped: "sealed by SecureCart; not opened: " + err.Error()}
	}
	obj := sc.Object(ctx, name, bytes.NewReader(plain), nil, emit)
	clear(plain)
	return obj
}

// sealed reports whether data is an envelope of SecureCart's.
func sealed(data []byte) bool {
	h, err := envelope.Parse(data)
	return err == nil && h.Domain.Valid()
}

// Size returns the stored size of objects, for a progress bar.
func Size(objects []objstore.Info) int64 {
	var n int64
	for _, o := range objects {
		n += o.Size
	}
	return n
}

// Ensure both stores can be scanned.
var (
	_ Storage = (*objstore.Local)(nil)
	_ Storage = (*objstore.S3)(nil)
)
