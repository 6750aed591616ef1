package objscan

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/objstore/objstoretest"
	"github.com/securecart/securecart/internal/scan"
)

func gzipped(t *testing.T, s string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	zw.Write([]byte(s))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func zstded(t *testing.T, s string) []byte {
	t.Helper()
	zw, err := zstd.NewWriter(nil)
	if err != nil {
		t.Fatal(err)
	}
	return zw.EncodeAll([]byte(s), nil)
}

// testAEAD seals the test's "SecureCart" objects.
func testAEAD(t *testing.T) cipher.AEAD {
	t.Helper()
	block, err := aes.NewCipher(bytes.Repeat([]byte{9}, 32))
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return aead
}

func binding(key string) envelope.Binding {
	return envelope.Binding{Table: "test", Column: "objects", Row: key}
}

// result is what a scan found, one line per finding and per skipped
// object.
type result struct{ found, skipped []string }

func scanTargets(t *testing.T, st Storage, open Opener, targets ...string) (result, int64) {
	t.Helper()
	ctx := context.Background()
	sc, err := scan.NewScanner(scan.Options{MinConfidence: scan.DefaultMinConfidence})
	if err != nil {
		t.Fatal(err)
	}
	var objects []objstore.Info
	for _, s := range targets {
		tg, err := ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		infos, err := List(ctx, st, tg)
		if err != nil {
			t.Fatal(err)
		}
		objects = append(objects, infos...)
	}
	var r result
	var read int64
	err = Scan(ctx, st, objects, sc, open, func(n int64) { read += n },
		func(f scan.Finding) {
			r.found = append(r.found, fmt.Sprintf("%s:%d %s %s", f.Object, f.Line, f.Detector, f.Sample))
		},
		func(o scan.Object) {
			if o.Skipped != "" {
				r.skipped = append(r.skipped, o.Name+": "+o.Skipped)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if read != Size(objects) {
		t.Errorf("progress counted %d bytes of %d", read, Size(objects))
	}
	return r, read
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"logs":                 {Bucket: "logs"},
		"logs/app/":            {Bucket: "logs", Prefix: "app/"},
		"shop-exports":         {Bucket: "shop-exports"},
		"shop.invoices/2024/q": {Bucket: "shop.invoices", Prefix: "2024/q"},
	} {
		got, err := ParseTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "Exports", "../etc", "-bad", "a..b", "bad-", "a_b"} {
		if _, err := ParseTarget(in); err == nil {
			t.Errorf("ParseTarget(%q) accepted a bad bucket name", in)
		}
	}
}

func TestScanOwnBucket(t *testing.T) {
	ctx := context.Background()
	st, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for key, data := range map[string][]byte{
		"app/2024-06-11.log":    []byte("INFO paid with card 4539 1488 0343 6467\n"),
		"app/2024-06-12.log.gz": gzipped(t, "2024-06-11 INFO sent to jane.doe@example.com\n"),
		"app/binary.bin":        {0x7f, 'E', 'L', 'F', 0x00, 0xff, 0x10, 0x00},
		"other/x.log":           []byte("card 4539 1488 0343 6467\n"),
	} {
		if _, err := st.Put(ctx, objstore.Logs, key, data, objstore.Standard); err != nil {
			t.Fatal(err)
		}
	}

	r, _ := scanTargets(t, st, nil, "logs/app/")
	want := []string{"objstore://logs/app/2024-06-11.log:1 card ••••6467",
		"objstore://logs/app/2024-06-12.log.gz:1 email j•••@example.com"}
	if !slices.Equal(r.found, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(r.found, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(r.skipped, []string{"objstore://logs/app/binary.bin: binary content"}) {
		t.Errorf("skipped = %v", r.skipped)
	}
}

// TestScanSealedObjects checks that an object sealed by SecureCart is
// scanned through its opener, compressed inside or not, and skipped with
// a note without one or when it does not open.
func TestScanSealedObjects(t *testing.T) {
	ctx := context.Background()
	st, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	aead := testAEAD(t)
	h := envelope.Header{Domain: envelope.Backup, KeyID: 1, KeyVersion: 1}
	put := func(key string, plain []byte) {
		sealed, err := envelope.Seal(aead, h, binding(key), plain)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(sealed, []byte("6467")) {
			t.Fatal("the sealed object shows its plaintext")
		}
		if _, err := st.Put(ctx, objstore.Backups, key, sealed, objstore.Standard); err != nil {
			t.Fatal(err)
		}
	}
	put("dep/seg/1", zstded(t, `{"table":"orders","after":{"notes":"visa 4539 1488 0343 6467"}}`+"\n"))
	put("dep/seg/2", []byte(`{"table":"products","after":{"description":"mail shop.owner@example.com"}}`+"\n"))
	moved, _, err := st.Get(ctx, objstore.Backups, "dep/seg/1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(ctx, objstore.Backups, "dep/seg/moved", moved, objstore.Standard); err != nil {
		t.Fatal(err)
	}

	var opened []string
	open := func(_ context.Context, bucket, key string, sealed []byte) ([]byte, error) {
		opened = append(opened, bucket+"/"+key)
		return envelope.Open(aead, sealed, binding(key))
	}
	r, _ := scanTargets(t, st, open, "backups")
	want := []string{"objstore://backups/dep/seg/1:1 card ••••6467",
		"objstore://backups/dep/seg/2:1 email s•••@example.com"}
	if !slices.Equal(r.found, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(r.found, "\n"), strings.Join(want, "\n"))
	}
	if len(opened) != 3 {
		t.Errorf("opened %v, want every sealed object", opened)
	}
	if len(r.skipped) != 1 || !strings.HasPrefix(r.skipped[0], "objstore://backups/dep/seg/moved: sealed by SecureCart; not opened: ") {
		t.Errorf("skipped = %v", r.skipped)
	}

	r, _ = scanTargets(t, st, nil, "backups/dep/seg/1")
	if len(r.found) != 0 || !slices.Equal(r.skipped, []string{"objstore://backups/dep/seg/1: sealed by SecureCart; not opened"}) {
		t.Errorf("without an opener: found %v, skipped %v", r.found, r.skipped)
	}
	noReader := func(context.Context, string, string, []byte) ([]byte, error) { return nil, ErrNoOpener }
	r, _ = scanTargets(t, st, noReader, "backups/dep/seg/2")
	if len(r.skipped) != 1 || !strings.HasSuffix(r.skipped[0], ErrNoOpener.Error()) {
		t.Errorf("opener without a reader: skipped %v", r.skipped)
	}
}

// TestScanOtherBucketLocal scans a folder beside SecureCart's buckets, as
// a shop's own exports would be kept in a local store, streamed.
func TestScanOtherBucketLocal(t *testing.T) {
	root := t.TempDir()
	st, err := objstore.NewLocal(root)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"exports/2024/customers.csv":    []byte("name,email\nJane,jane.doe@example.com\n"),
		"exports/2024/orders.jsonl.zst": zstded(t, `{"note":"card 4539 1488 0343 6467"}`+"\n"),
		"exports/2024/logo.png":         {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00},
		"exports/2023/old.csv":          []byte("ssn,123-45-6789\n"),
		"exports/.hidden/secrets.env":   []byte("aws_key=AKIAIOSFODNN7EXAMPLF\n"),
		"invoices/a.txt":                []byte("card 4539 1488 0343 6467\n"),
	}
	for name, b := range files {
		p := filepath.Join(root, "shop-"+filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// A link out of the bucket is neither listed nor opened.
	if err := os.Symlink(filepath.Join(root, "shop-invoices", "a.txt"), filepath.Join(root, "shop-exports", "2024", "link.txt")); err != nil {
		t.Fatal(err)
	}

	r, read := scanTargets(t, st, nil, "shop-exports/2024/")
	want := []string{"objstore://shop-exports/2024/customers.csv:2 email j•••@example.com",
		"objstore://shop-exports/2024/orders.jsonl.zst:1 card ••••6467"}
	if !slices.Equal(r.found, want) {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(r.found, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(r.skipped, []string{"objstore://shop-exports/2024/logo.png: binary content"}) {
		t.Errorf("skipped = %v", r.skipped)
	}
	if read == 0 {
		t.Error("progress counted nothing")
	}

	r, _ = scanTargets(t, st, nil, "shop-exports")
	if len(r.found) != 4 {
		t.Errorf("whole bucket: %d findings, want 4 (hidden files included):\n%s", len(r.found), strings.Join(r.found, "\n"))
	}

	ctx := context.Background()
	for _, key := range []string{"../shop-invoices/a.txt", "2024/link.txt", "/etc/passwd", "2024/../../x"} {
		if rc, err := st.OpenOther(ctx, "shop-exports", key); err == nil {
			rc.Close()
			t.Errorf("OpenOther(%q) opened a file outside the bucket", key)
		}
	}
	if _, err := st.ListOther(ctx, "no-such-bucket", ""); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("ListOther of a missing bucket: %v, want ErrNotFound", err)
	}
	if _, err := st.ListOther(ctx, "logs", ""); !errors.Is(err, objstore.ErrInvalidKey) {
		t.Errorf("ListOther of SecureCart's own bucket: %v, want ErrInvalidKey", err)
	}
}

// TestScanOtherBucketS3 scans a bucket of the S3 service that SecureCart
// does not manage, written by another client without SecureCart's
// checksum metadata.
func TestScanOtherBucketS3(t *testing.T) {
	srv := objstoretest.StartS3(t)
	st := srv.NewStore(t)
	ctx := context.Background()
	bucket := fmt.Sprintf("exports-%d", os.Getpid())
	if err := objstoretest.PutOther(ctx, srv, bucket, map[string][]byte{
		"day1/orders.csv.gz": gzipped(t, "id,note\n1,pay with visa 4539 1488 0343 6467\n"),
		"day1/clean.txt":     []byte("nothing to see\n"),
		"day2/users.csv":     []byte("mail,jane.doe@example.com\n"),
	}); err != nil {
		t.Fatal(err)
	}

	r, _ := scanTargets(t, st, nil, bucket+"/day1/")
	want := []string{"objstore://" + bucket + "/day1/orders.csv.gz:2 card ••••6467"}
	if !slices.Equal(r.found, want) || len(r.skipped) != 0 {
		t.Errorf("findings %v, skipped %v; want %v", r.found, r.skipped, want)
	}
	if _, err := st.OpenOther(ctx, bucket, "day1/missing"); !errors.Is(err, objstore.ErrNotFound) {
		t.Errorf("OpenOther of a missing object: %v, want ErrNotFound", err)
	}
}
