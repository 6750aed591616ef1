package scan

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
)

func mustScanner(t testing.TB, opts Options) *Scanner {
	t.Helper()
	sc, err := NewScanner(opts)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func readAll(t testing.TB, sc *Scanner, r io.Reader) []Finding {
	t.Helper()
	var out []Finding
	if _, err := sc.Reader(context.Background(), "obj", r, func(f Finding) { out = append(out, f) }); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestReaderBoundaries puts a card number across every position of a
// window boundary and checks it is found exactly once, at the right place.
func TestReaderBoundaries(t *testing.T) {
	const window = minWindow
	card := "4539 1488 0343 6467"
	for shift := -len(card) - 2; shift <= 2; shift++ {
		// The window boundary is at window+windowOverlap-windowOverlap.
		at := window + shift
		line := strings.Repeat("x", 40) + "\n"
		var b strings.Builder
		for b.Len() < at-len(" card ") {
			b.WriteString(line)
		}
		pad := at - len(" card ") - b.Len()
		b.WriteString(strings.Repeat("y", max(0, pad)))
		b.WriteString(" card ")
		off := b.Len()
		b.WriteString(card + " end\n")
		for b.Len() < 3*window+windowOverlap {
			b.WriteString(line)
		}
		text := b.String()
		lineNo := strings.Count(text[:off], "\n") + 1
		col := off - strings.LastIndexByte(text[:off], '\n')

		sc := mustScanner(t, Options{Window: window, MinConfidence: DefaultMinConfidence})
		got := readAll(t, sc, strings.NewReader(text))
		if len(got) != 1 {
			t.Fatalf("shift %d: %d findings, want 1: %+v", shift, len(got), got)
		}
		f := got[0]
		if f.Offset != int64(off) || f.Line != lineNo || f.Column != col || f.Length != len(card) {
			t.Errorf("shift %d: found at %d (%d:%d) length %d, want %d (%d:%d) length %d",
				shift, f.Offset, f.Line, f.Column, f.Length, off, lineNo, col, len(card))
		}
	}
}

// TestReaderMatchesText checks that a streamed scan finds what a scan of
// the whole text in memory finds, with small windows.
func TestReaderMatchesText(t *testing.T) {
	text := logText(300<<10, 7)
	sc := mustScanner(t, Options{Window: minWindow})
	want := sc.Text("obj", []byte(text))
	got := readAll(t, sc, strings.NewReader(text))
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("streamed %d findings, in memory %d", len(got), len(want))
	}
	if len(want) < 100 {
		t.Fatalf("only %d findings in the test text", len(want))
	}
}

func TestDecode(t *testing.T) {
	plain := []byte("note: card 4539 1488 0343 6467\n")
	var gz, zs bytes.Buffer
	gw := gzip.NewWriter(&gz)
	gw.Write(plain)
	gw.Close()
	zw, err := zstd.NewWriter(&zs)
	if err != nil {
		t.Fatal(err)
	}
	zw.Write(plain)
	zw.Close()

	for name, in := range map[string][]byte{"plain": plain, "gzip": gz.Bytes(), "zstd": zs.Bytes()} {
		r, c, err := Decode(bytes.NewReader(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		got, err := io.ReadAll(r)
		c.Close()
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("%s: got %q, %v", name, got, err)
		}
	}

	bin := append([]byte("ELF"), make([]byte, 100)...)
	if _, _, err := Decode(bytes.NewReader(bin)); !errors.Is(err, ErrBinary) {
		t.Errorf("binary input: err = %v, want ErrBinary", err)
	}
	if _, _, err := Decode(bytes.NewReader(nil)); err != nil {
		t.Errorf("empty input: %v", err)
	}
}

func TestFileSkipsAndAllows(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a.log", []byte("paid with card 4111 1111 1111 1111 and 4539 1488 0343 6467\n"))
	write("bin/app", []byte{0x7f, 'E', 'L', 'F', 0, 0, 1})
	write("testdata/cards.txt", []byte("card 4539 1488 0343 6467\n"))

	files, err := ListFiles([]string{dir})
	if err != nil || len(files) != 3 {
		t.Fatalf("ListFiles = %v, %v", files, err)
	}
	sc := mustScanner(t, Options{MinConfidence: DefaultMinConfidence,
		Allow: &AllowList{TestCards: true, Paths: []string{"**/testdata/**"}}})
	var found []Finding
	skipped := map[string]string{}
	for _, f := range files {
		o := sc.File(context.Background(), f.Path, nil, func(fd Finding) { found = append(found, fd) })
		if o.Skipped != "" {
			skipped[filepath.Base(f.Path)] = o.Skipped
		}
	}
	if len(found) != 1 || found[0].Sample != "••••6467" {
		t.Errorf("found %+v, want only the card that is not a test card", found)
	}
	if skipped["app"] != "binary content" || skipped["cards.txt"] != "allow-listed path" {
		t.Errorf("skipped = %v", skipped)
	}
}

func TestAllowValuesByHMAC(t *testing.T) {
	key := bytes.Repeat([]byte{7}, 32)
	allow := &AllowList{Key: key, Values: map[string]bool{
		ValueMAC(key, DetectorCard, "4539-1488-0343-6467"): true,
	}}
	sc := mustScanner(t, Options{MinConfidence: DefaultMinConfidence, Allow: allow})
	got := sc.Text("note", []byte("card 4539 1488 0343 6467, card 4916 3389 1185 9741"))
	if len(got) != 1 || got[0].Sample != "••••9741" {
		t.Errorf("got %+v, want only the card not allow-listed", got)
	}
	// The redactor knows nothing of allow-lists.
	if r := Redact("card 4539 1488 0343 6467 and 4111 1111 1111 1111"); strings.Contains(r, "6467 ") ||
		strings.Contains(r, "4111 1111") {
		t.Errorf("Redact kept an allow-listed or test card: %q", r)
	}
}

func TestGlob(t *testing.T) {
	a := &AllowList{Paths: []string{"testdata/**", "**/*.md", "logs/*.gz"}}
	for p, want := range map[string]bool{
		"testdata/x/y.txt": true, "./testdata/a": true, "docs/README.md": true, "README.md": true,
		"logs/a.gz": true, "logs/old/a.gz": false, "src/main.go": false, "x/testdata/a": false,
	} {
		if got := a.AllowsPath(p); got != want {
			t.Errorf("AllowsPath(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestAllowListHidesItsKey(t *testing.T) {
	a := &AllowList{Key: []byte("0123456789abcdef0123456789abcdef"), Values: map[string]bool{"x": true}}
	for _, s := range []string{fmt.Sprint(a), fmt.Sprintf("%+v", a)} {
		if strings.Contains(s, "0123456789abcdef") {
			t.Errorf("allow-list printed its key: %s", s)
		}
	}
}

// TestSmallObjectsReuseWindows scans many small objects and checks that
// they do not each allocate a window: a folder of small files would
// otherwise cost a window's allocation and clearing per file.
func TestSmallObjectsReuseWindows(t *testing.T) {
	// The race detector makes sync.Pool drop a quarter of what it is
	// given, on purpose: a window then costs about a quarter of one.
	limit := uint64(64 << 10)
	if raceEnabled {
		limit = (DefaultWindow + windowOverlap) / 2
	}
	sc := mustScanner(t, Options{MinConfidence: DefaultMinConfidence})
	text := []byte("2024-06-11 INFO paid with card 4539 1488 0343 6467 from 10.0.0.7\n")
	scan := func() {
		if got := readAll(t, sc, bytes.NewReader(text)); len(got) != 2 {
			t.Fatalf("found %v", got)
		}
	}
	scan()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	const n = 200
	for range n {
		scan()
	}
	runtime.ReadMemStats(&after)
	if per := (after.TotalAlloc - before.TotalAlloc) / n; per > limit {
		t.Errorf("each scan of %d bytes allocated %d KiB", len(text), per>>10)
	}
}
