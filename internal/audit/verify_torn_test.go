package audit

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/mod/sumdb/note"
)

// TestVerifyAcceptsATornNewSegment leaves what a crash while a segment
// was created leaves, a header cut short; Verify accepts it as Open does,
// and refuses a last segment whose header is bad but which is too long
// to be torn.
func TestVerifyAcceptsATornNewSegment(t *testing.T) {
	k := newTestKey(t)
	vs := []note.Verifier{k.verifier}
	for _, tc := range []struct {
		name string
		cut  int // bytes of the header kept, or -1 for the header and a record's worth of garbage
		ok   bool
	}{
		{"empty", 0, true},
		{"partial", 20, true},
		{"garbage after", -1, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTestLog(t, dir, k, nil)
			appendN(t, l, 0, 25, 2)
			size, _ := l.Head()
			l.Checkpoint(t.Context())
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			head := segHeader(size, nil)
			b := head[:max(tc.cut, 0)]
			if tc.cut < 0 {
				b = append([]byte("notaseg!"), make([]byte, 200)...)
			}
			if err := os.WriteFile(filepath.Join(dir, segName(size)), b, 0o600); err != nil {
				t.Fatal(err)
			}
			rep, err := Verify(dir, vs, nil)
			if err != nil {
				t.Fatal(err)
			}
			if rep.OK() != tc.ok || rep.Records != 25 {
				t.Fatalf("verify: %d records, problems %v, want ok %v", rep.Records, rep.Problems, tc.ok)
			}
		})
	}
}
