package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// FuzzObject feeds arbitrary bytes to a scan as a file gets it: plain,
// gzip or zstd (damaged streams included) or binary. The scan must not
// panic, must report findings in order within the text it read, and must
// find in a plain text what a scan in memory finds.
func FuzzObject(f *testing.F) {
	text := []byte("INFO paid with card 4539 1488 0343 6467 from 10.0.0.7\nmail jane.doe@example.com\n")
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(text)
	zw.Close()
	enc, err := zstd.NewWriter(nil)
	if err != nil {
		f.Fatal(err)
	}
	zs := enc.EncodeAll(text, nil)
	for _, seed := range [][]byte{
		text,
		[]byte("name,card_number,note\njane,4539148803436467,\"a, b\"\nx,5105105105105100,1\n"),
		gz.Bytes(),
		zs,
		gz.Bytes()[:len(gz.Bytes())/2],
		zs[:len(zs)-3],
		{0x1f, 0x8b},
		{0x28, 0xb5, 0x2f, 0xfd, 0x00},
		{0x7f, 'E', 'L', 'F', 0, 1, 2},
		{},
	} {
		f.Add(seed)
	}
	sc := mustScanner(f, Options{Window: minWindow})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 16<<10 {
			return
		}
		var found []Finding
		obj := sc.Object(context.Background(), "obj", bytes.NewReader(in), nil, func(fd Finding) {
			found = append(found, fd)
		})
		if obj.Findings != len(found) {
			t.Fatalf("object says %d findings, emitted %d", obj.Findings, len(found))
		}
		for i, fd := range found {
			if fd.Offset < 0 || fd.Length <= 0 || fd.Offset+int64(fd.Length) > obj.Bytes {
				t.Fatalf("finding %d at [%d,+%d) outside the %d bytes read", i, fd.Offset, fd.Length, obj.Bytes)
			}
			if i > 0 && fd.Offset < found[i-1].Offset+int64(found[i-1].Length) {
				t.Fatalf("finding %d overlaps finding %d", i, i-1)
			}
		}

		plain := len(in) < 4 || !(in[0] == 0x1f && in[1] == 0x8b) && !bytes.Equal(in[:4], []byte{0x28, 0xb5, 0x2f, 0xfd})
		if plain && obj.Skipped == "" {
			if obj.Bytes != int64(len(in)) {
				t.Fatalf("read %d bytes of %d", obj.Bytes, len(in))
			}
			if want := sc.Text("obj", in); fmt.Sprint(found) != fmt.Sprint(want) {
				t.Fatalf("streamed:\n%v\nin memory:\n%v", found, want)
			}
		}
	})
}
