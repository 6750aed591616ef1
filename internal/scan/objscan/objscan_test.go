package objscan

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/scan"
)

func TestScanBucket(t *testing.T) {
	ctx := context.Background()
	st, err := objstore.NewLocal(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("2024-06-11 INFO sent to jane.doe@example.com\n"))
	zw.Close()
	for key, data := range map[string][]byte{
		"app/2024-06-11.log":    []byte("INFO paid with card 4539 1488 0343 6467\n"),
		"app/2024-06-12.log.gz": gz.Bytes(),
		"app/sealed.bin":        {0x01, 0x00, 0xff, 0x10, 0x00},
		"other/x.log":           []byte("card 4539 1488 0343 6467\n"),
	} {
		if _, err := st.Put(ctx, objstore.Logs, key, data, objstore.Standard); err != nil {
			t.Fatal(err)
		}
	}

	bucket, prefix, err := ParseTarget("logs/app/")
	if err != nil || bucket != "logs" || prefix != "app/" {
		t.Fatalf("ParseTarget = %q, %q, %v", bucket, prefix, err)
	}
	if _, _, err := ParseTarget("nope"); err == nil {
		t.Error("ParseTarget accepted an unknown bucket")
	}

	sc, err := scan.NewScanner(scan.Options{MinConfidence: scan.DefaultMinConfidence})
	if err != nil {
		t.Fatal(err)
	}
	var got, skipped []string
	err = Scan(ctx, st, bucket, prefix, sc,
		func(f scan.Finding) {
			got = append(got, fmt.Sprintf("%s:%d %s %s", f.Object, f.Line, f.Detector, f.Sample))
		},
		func(o scan.Object) {
			if o.Skipped != "" {
				skipped = append(skipped, o.Name+": "+o.Skipped)
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	want := "objstore://logs/app/2024-06-11.log:1 card ••••6467\n" +
		"objstore://logs/app/2024-06-12.log.gz:1 email j•••@example.com"
	if strings.Join(got, "\n") != want {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), want)
	}
	if len(skipped) != 1 || skipped[0] != "objstore://logs/app/sealed.bin: binary content" {
		t.Errorf("skipped = %v", skipped)
	}
}
