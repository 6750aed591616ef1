// Package objstore is SecureCart's object storage: named buckets of
// immutable objects, each with a storage class and a SHA-256 checksum, kept
// either in a local folder (the default, under the data directory) or in an
// S3-compatible service.
//
// # Model
//
// A Store holds the buckets in Buckets (backups, audit, logs, archive).
// Objects are written whole with Put and read whole with Get; there are no
// partial writes, appends or renames. Large things (database snapshots) are
// split into parts by the caller. Keys are slash-separated paths of
// letters, digits, '.', '_', '-' and '=', at most MaxKeyLen bytes, with no
// empty, "." or ".." part and no part that starts with a dot, so a key can
// never escape its bucket's folder.
//
// Everything SecureCart stores here is already sealed with its own keys,
// but for the audit trail's signed checkpoints, which hold no record and
// are meant to be checked by anyone with the verifier key; the store adds
// integrity, not secrecy.
//
// # Checksums
//
// Put computes the SHA-256 of the data and keeps it with the object. Get
// recomputes it and returns ErrChecksum when the bytes read differ, so a
// flipped bit on disk or in transit is an error and never silent data.
//
// # Storage classes
//
// STANDARD, STANDARD_IA and GLACIER_IR. The S3 store passes the class to
// the service (x-amz-storage-class) and also records it as user metadata,
// since some services accept the header and store everything as STANDARD;
// the local store records it in the object's header. The class changes cost and retrieval time on a cloud
// service and nothing else: every class reads back the same way.
//
// # Limits
//
// Objects are held in memory while they are written and read, so they
// should stay below a few tens of megabytes; MaxObjectSize bounds them. The
// local store is for one machine: two processes writing the same key race,
// and the last rename wins. On S3, an object's checksum travels as user
// metadata, and Get refuses an object written by another tool without it.
package objstore

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Class is an object's storage class.
type Class string

// The storage classes.
const (
	Standard   Class = "STANDARD"
	StandardIA Class = "STANDARD_IA"
	GlacierIR  Class = "GLACIER_IR"
)

// Valid reports whether c is one of the three classes.
func (c Class) Valid() bool { return c == Standard || c == StandardIA || c == GlacierIR }

// The buckets.
const (
	Backups = "backups"
	Audit   = "audit"
	Logs    = "logs"
	Archive = "archive"
)

// Buckets lists every bucket a Store holds.
var Buckets = []string{Backups, Audit, Logs, Archive}

// Limits.
const (
	MaxKeyLen     = 512
	MaxObjectSize = 256 << 20
)

// Errors callers match with errors.Is.
var (
	ErrNotFound   = errors.New("objstore: no such object")
	ErrChecksum   = errors.New("objstore: object does not match its checksum")
	ErrInvalidKey = errors.New("objstore: invalid bucket, key or class")
	ErrTooLarge   = errors.New("objstore: object too large")
)

// Info describes a stored object.
type Info struct {
	Bucket   string
	Key      string
	Size     int64
	Class    Class
	SHA256   [32]byte
	Modified time.Time
}

// Store is object storage. Implementations are safe for concurrent use.
type Store interface {
	// Put stores data under bucket/key with class, replacing any object
	// there, and returns once the object is durable.
	Put(ctx context.Context, bucket, key string, data []byte, class Class) (Info, error)
	// Get returns the object's bytes after checking them against its
	// checksum.
	Get(ctx context.Context, bucket, key string) ([]byte, Info, error)
	// Stat describes the object without reading it.
	Stat(ctx context.Context, bucket, key string) (Info, error)
	// List returns the objects whose keys start with prefix, in key order.
	// Listed objects may lack SHA256.
	List(ctx context.Context, bucket, prefix string) ([]Info, error)
	// Delete removes the object; deleting a missing object is not an error.
	Delete(ctx context.Context, bucket, key string) error
}

// Checksum returns the SHA-256 of data, as Put records it.
func Checksum(data []byte) [32]byte { return sha256.Sum256(data) }

func validBucket(b string) bool {
	for _, x := range Buckets {
		if b == x {
			return true
		}
	}
	return false
}

// ValidKey reports whether key is acceptable to every Store.
func ValidKey(key string) bool {
	if key == "" || len(key) > MaxKeyLen {
		return false
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part[0] == '.' {
			return false
		}
		for _, r := range part {
			ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
				r == '.' || r == '_' || r == '-' || r == '='
			if !ok {
				return false
			}
		}
	}
	return true
}

// validPrefix accepts "" and any prefix of a valid key.
func validPrefix(p string) bool {
	if p == "" {
		return true
	}
	return ValidKey(strings.TrimSuffix(p, "/"))
}

func check(bucket, key string) error {
	if !validBucket(bucket) || !ValidKey(key) {
		return fmt.Errorf("%w: %q/%q", ErrInvalidKey, bucket, key)
	}
	return nil
}
