package objstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/objstore/objstoretest"
)

func TestValidOtherBucket(t *testing.T) {
	for name, want := range map[string]bool{
		"shop-exports": true, "invoices.2024": true, "abc": true,
		"ab": false, "Exports": false, "-x-": false, "a..b": false, "a_b": false, "logs": false,
		"backups": false, "x/y": false,
	} {
		if got := objstore.ValidOtherBucket(name); got != want {
			t.Errorf("ValidOtherBucket(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestS3OtherRefusesOwnBuckets checks that SecureCart's own buckets are
// not read as another tool's under their prefixed names.
func TestS3OtherRefusesOwnBuckets(t *testing.T) {
	srv := objstoretest.StartS3(t)
	st, err := objstore.NewS3(srv.Config("pfx-"))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := st.EnsureBuckets(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := st.ListOther(ctx, "pfx-backups", ""); !errors.Is(err, objstore.ErrInvalidKey) {
		t.Errorf("ListOther of the prefixed backups bucket: %v, want ErrInvalidKey", err)
	}
	if _, err := st.OpenOther(ctx, "pfx-logs", "a"); !errors.Is(err, objstore.ErrInvalidKey) {
		t.Errorf("OpenOther in the prefixed logs bucket: %v, want ErrInvalidKey", err)
	}
	if err := objstoretest.PutOther(ctx, srv, "pfx-exports", map[string][]byte{"a.csv": []byte("x\n")}); err != nil {
		t.Fatal(err)
	}
	if infos, err := st.ListOther(ctx, "pfx-exports", ""); err != nil || len(infos) != 1 || infos[0].Key != "a.csv" {
		t.Errorf("ListOther of a bucket that only shares the prefix: %v, %v", infos, err)
	}
}
