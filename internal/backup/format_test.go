package backup

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/store"
)

func sampleChanges() []store.Change {
	at := time.UnixMicro(1764000000000000).UTC()
	return []store.Change{
		{Pos: 5, At: at, Table: "products", Key: "prd_1", Op: "insert", After: json.RawMessage(`{"id":"prd_1"}`)},
		{Pos: 6, At: at, Table: "products", Key: "prd_1", Op: "delete"},
	}
}

func TestSegmentRoundTrip(t *testing.T) {
	plain, err := encodeSegment("dep1", sampleChanges())
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeSegment("dep1", segmentName(5, 6), plain)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := encodeSegment("dep1", got)
	if !bytes.Equal(again, plain) {
		t.Fatalf("round trip changed the segment:\n%s\n%s", plain, again)
	}
	cases := map[string]struct{ dep, name string }{
		"other deployment": {"dep2", segmentName(5, 6)},
		"other range":      {"dep1", segmentName(5, 7)},
		"bad name":         {"dep1", "seg/5-6"},
	}
	for what, c := range cases {
		if _, err := decodeSegment(c.dep, c.name, plain); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", what, err)
		}
	}
	spaced := bytes.Replace(plain, []byte(`{"id":"prd_1"}`), []byte(`{ "id":"prd_1"}`), 1)
	if _, err := decodeSegment("dep1", segmentName(5, 6), spaced); !errors.Is(err, ErrCorrupt) {
		t.Errorf("non-canonical segment: %v", err)
	}
}

// FuzzDecodeSegment checks that the decoder never panics and accepts only
// what the encoder writes.
func FuzzDecodeSegment(f *testing.F) {
	plain, _ := encodeSegment("dep1", sampleChanges())
	f.Add(plain)
	f.Add([]byte(`{"format":"securecart-backup-segment-v1","deployment":"dep1","first":5,"last":6}` + "\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		cs, err := decodeSegment("dep1", segmentName(5, 6), b)
		if err != nil {
			return
		}
		again, err := encodeSegment("dep1", cs)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("accepted a segment the encoder would not write: %q", b)
		}
	})
}

func TestSegmentNames(t *testing.T) {
	first, last, ok := parseSegmentName(segmentName(1, 42))
	if !ok || first != 1 || last != 42 {
		t.Fatalf("parse %s: %d %d %v", segmentName(1, 42), first, last, ok)
	}
	for _, bad := range []string{"seg/", "seg/00000000000000000002-00000000000000000001", "snap/x", segmentName(0, 3)} {
		if _, _, ok := parseSegmentName(bad); ok {
			t.Errorf("accepted %q", bad)
		}
	}
	at := time.UnixMicro(1764000000123456).UTC()
	pos, got, ok := parseSnapshotDir(snapshotDir(77, at))
	if !ok || pos != 77 || !got.Equal(at) {
		t.Fatalf("snapshot dir round trip: %d %s %v", pos, got, ok)
	}
}
