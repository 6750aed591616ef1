package scan

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"runtime"
	"strings"
	"testing"
	"unicode/utf8"
)

// leaky are the detectors whose matched text must never survive Redact:
// long, structured values, so that finding their text again in the output
// means a leak and not a coincidence.
var leaky = map[string]bool{
	DetectorCard:       true,
	DetectorAPIKey:     true,
	DetectorAWSKey:     true,
	DetectorJWT:        true,
	DetectorPrivateKey: true,
}

func FuzzRedact(f *testing.F) {
	for _, s := range []string{
		"",
		"pan=4111 1111 1111 1111 exp=12/31",
		"4111-1111-1111-1111-5555-5555-5555-4444",
		"3782 822463 10005 and 6011000990139424",
		"john.doe@example.com +1 (415) 555-0100",
		"key=" + testKey,
		"Authorization: Bearer " + testJWT,
		"AKIAIOSFODNN7EXAMPLE postgres://app:hunter2@db/shop",
		testPEM,
		"-----BEGIN PRIVATE KEY-----\nMIIE",
		"https://u:p@ss@example.com/ 4111111111111111@example.com",
		"ORD-4111111111111111 1.4111111111111111 2024-06-11T10:15:30+01:00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Redact(in)
		ms := Find([]byte(in))

		for i, m := range ms {
			if m.Start < 0 || m.Start >= m.End || m.End > len(in) {
				t.Fatalf("match %d has range [%d,%d) in %d bytes", i, m.Start, m.End, len(in))
			}
			if i > 0 && m.Start < ms[i-1].End {
				t.Fatalf("match %d overlaps or precedes match %d", i, i-1)
			}
		}

		// Each matched value may appear in the output only as often as it
		// appears in the input outside the matches.
		count := map[string]int{}
		for _, m := range ms {
			if leaky[m.Detector] {
				count[in[m.Start:m.End]]++
			}
		}
		for v, n := range count {
			if strings.Count(out, v)+n > strings.Count(in, v) {
				t.Fatalf("Redact(%q) = %q keeps %q", in, out, v)
			}
		}

		for _, m := range Find([]byte(out)) {
			if leaky[m.Detector] {
				t.Fatalf("Redact(%q) = %q leaves %s %q", in, out, m.Detector, out[m.Start:m.End])
			}
		}

		if utf8.ValidString(in) && !utf8.ValidString(out) {
			t.Fatalf("Redact(%q) = %q is not UTF-8", in, out)
		}
	})
}

// FuzzScanReader places the input across the boundary between two
// windows of a streamed scan and checks that the stream finds what a scan
// of the whole text in memory finds, once each, at the right line and
// column, with samples that do not show the value.
func FuzzScanReader(f *testing.F) {
	for _, s := range []string{
		"card 4539 1488 0343 6467",
		"name,card_number\njane,4539148803436467\n",
		"IBAN DE89 3704 0044 0532 0130 00 and ssn 123-45-6789",
		"phone: (415) 555-0100\nfrom 10.0.0.7 and 2001:db8::1",
		"aws_secret_access_key=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"Authorization: Bearer " + testJWT,
		testPEM,
	} {
		f.Add(s, uint16(3))
	}
	sc := mustScanner(f, Options{Window: minWindow})
	f.Fuzz(func(t *testing.T, in string, shift uint16) {
		if len(in) > 8<<10 {
			return
		}
		pre := minWindow - int(shift)%(len(in)+1)
		text := []byte(strings.Repeat(" ", pre) + in + "\n" + strings.Repeat(" ", windowOverlap+minWindow))

		want := sc.Text("obj", text)
		var got []Finding
		n, err := sc.Reader(context.Background(), "obj", bytes.NewReader(text), func(f Finding) { got = append(got, f) })
		if err != nil || n != int64(len(text)) {
			t.Fatalf("Reader = %d, %v; want %d bytes", n, err, len(text))
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("streamed:\n%v\nin memory:\n%v", got, want)
		}

		for i, f := range got {
			if i > 0 && f.Offset < got[i-1].Offset+int64(got[i-1].Length) {
				t.Fatalf("finding %d overlaps finding %d", i, i-1)
			}
			before := text[:f.Offset]
			line := bytes.Count(before, []byte{'\n'}) + 1
			col := int(f.Offset) - bytes.LastIndexByte(before, '\n')
			if f.Line != line || f.Column != col {
				t.Fatalf("finding at %d says %d:%d, want %d:%d", f.Offset, f.Line, f.Column, line, col)
			}
			v := string(text[f.Offset : f.Offset+int64(f.Length)])
			if leaky[f.Detector] && len(v) > 8 && strings.Contains(f.Sample, v) {
				t.Fatalf("sample %q shows the value %q", f.Sample, v)
			}
		}
	})
}

// TestReaderMemoryIsBounded streams 16 MiB, dense with findings,
// through a scan and checks that the heap never holds more than a few
// windows: nothing accumulates with the size.
func TestReaderMemoryIsBounded(t *testing.T) {
	const total = 16 << 20
	line := []byte(`{"level":"INFO","msg":"paid","card":"4539 1488 0343 6467","ip":"10.0.0.7"}` + "\n")
	r := io.LimitReader(&repeater{b: line}, total)
	sc := mustScanner(t, Options{Window: 1 << 20})

	var peak uint64
	var ms runtime.MemStats
	count := 0
	n, err := sc.Reader(context.Background(), "big", r, func(Finding) {
		count++
		if count%20_000 == 0 {
			runtime.ReadMemStats(&ms)
			peak = max(peak, ms.HeapAlloc)
		}
	})
	if err != nil || n != total {
		t.Fatalf("Reader = %d, %v", n, err)
	}
	if count < 400_000 {
		t.Fatalf("%d findings, want one card and one address per line", count)
	}
	if peak == 0 || peak > 24<<20 {
		t.Errorf("heap reached %d MiB while streaming", peak>>20)
	}
}

// repeater reads b over and over.
type repeater struct {
	b   []byte
	off int
}

func (r *repeater) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		k := copy(p[n:], r.b[r.off:])
		n += k
		r.off = (r.off + k) % len(r.b)
	}
	return n, nil
}
