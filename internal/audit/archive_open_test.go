package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/objstore"
)

// OpenArchived turns the shipped chunks and the archived segments back
// into one text line a record, and refuses an object under another name.
func TestOpenArchived(t *testing.T) {
	ctx := t.Context()
	st := localStore(t)
	sealer := newTestSealer(t)
	clock := &fakeClock{t: archiveBase}
	dir := t.TempDir()
	l := openTestLog(t, dir, newTestKey(t), func(o *Options) { o.SegmentSize = 2048; o.Now = clock.Now })
	a, err := NewArchiver(dir, ArchiveOptions{Store: st, Sealer: sealer, Origin: testOrigin, Now: clock.Now,
		Online: 10 * 24 * time.Hour, Retention: 365 * 24 * time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	appendDays(t, l, clock, 0, 40)
	if err := a.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	seen := map[string]bool{}
	var opened int
	for _, bucket := range []string{objstore.Audit, objstore.Archive} {
		infos, err := st.List(ctx, bucket, testOrigin+"/seg/")
		if err != nil {
			t.Fatal(err)
		}
		if len(infos) == 0 {
			t.Fatalf("no segment objects in the %s bucket", bucket)
		}
		for _, info := range infos {
			sealed, _, err := st.Get(ctx, bucket, info.Key)
			if err != nil {
				t.Fatal(err)
			}
			text, err := OpenArchived(ctx, sealer, bucket, info.Key, sealed)
			if err != nil {
				t.Fatalf("%s/%s: %v", bucket, info.Key, err)
			}
			opened++
			for _, line := range strings.Split(strings.TrimSuffix(string(text), "\n"), "\n") {
				var ev map[string]any
				if err := json.Unmarshal([]byte(line), &ev); err != nil {
					t.Fatalf("%s: line %q: %v", info.Key, line, err)
				}
				if ev["class_uid"] != float64(6003) {
					t.Fatalf("%s: not an OCSF API activity: %q", info.Key, line)
				}
				seen[line] = true
			}
			if _, err := OpenArchived(ctx, sealer, bucket, info.Key+"0", sealed); err == nil {
				t.Fatalf("%s opened under another name", info.Key)
			}
			other := objstore.Audit
			if bucket == objstore.Audit {
				other = objstore.Archive
			}
			if _, err := OpenArchived(ctx, sealer, other, info.Key, sealed); err == nil {
				t.Fatalf("%s opened from another bucket", info.Key)
			}
		}
	}
	if opened == 0 || len(seen) < 40 {
		t.Fatalf("%d objects opened, %d distinct records", opened, len(seen))
	}
	if _, err := OpenArchived(ctx, sealer, objstore.Audit, testOrigin+"/cp/x", nil); err == nil {
		t.Fatal("a checkpoints object opened as records")
	}
}
