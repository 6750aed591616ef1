// Package objscan scans the objects of a bucket of SecureCart's object
// storage for sensitive data, the way `securecart scan` scans files:
// gzip and zstd objects are decompressed, binary ones skipped with a
// note.
//
// Each object is read whole, as the object store returns it (at most
// objstore.MaxObjectSize), and checked against its checksum before it is
// scanned. Objects SecureCart sealed with its own keys (backups, audit
// segments) are ciphertext to the scanner: they are reported as skipped,
// binary, and not opened.
package objscan

import (
	"bytes"
	"context"
	"fmt"
	"strings"

	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/scan"
)

// ParseTarget splits "BUCKET[/PREFIX]".
func ParseTarget(s string) (bucket, prefix string, err error) {
	bucket, prefix, _ = strings.Cut(s, "/")
	for _, b := range objstore.Buckets {
		if b == bucket {
			return bucket, prefix, nil
		}
	}
	return "", "", fmt.Errorf("scan bucket: unknown bucket %q (buckets: %s)", bucket, strings.Join(objstore.Buckets, ", "))
}

// Name is how findings name an object.
func Name(bucket, key string) string { return "objstore://" + bucket + "/" + key }

// Scan scans the objects of bucket whose keys start with prefix, calling
// emit with each finding and done with each object.
func Scan(ctx context.Context, st objstore.Store, bucket, prefix string, sc *scan.Scanner,
	emit func(scan.Finding), done func(scan.Object)) error {
	infos, err := st.List(ctx, bucket, prefix)
	if err != nil {
		return fmt.Errorf("scan bucket %s: %w", bucket, err)
	}
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return err
		}
		name := Name(bucket, info.Key)
		if sc.Allow().AllowsPath(name) {
			done(scan.Object{Name: name, Skipped: "allow-listed path"})
			continue
		}
		data, _, err := st.Get(ctx, bucket, info.Key)
		if err != nil {
			done(scan.Object{Name: name, Skipped: err.Error()})
			continue
		}
		done(sc.Object(ctx, name, bytes.NewReader(data), nil, emit))
	}
	return nil
}
