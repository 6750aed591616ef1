package scan

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"testing"

	"github.com/securecart/securecart/internal/scan/scantest"
)

// The throughput benchmark's text: 64 MiB of JSON log lines with one
// sensitive value about every 10 KB (SECURECART_BENCH_SCAN_MIB changes
// the size).
var (
	benchOnce   sync.Once
	benchText   []byte
	benchLabels []scantest.Label
)

func throughputText(b *testing.B) ([]byte, []scantest.Label) {
	benchOnce.Do(func() {
		mib := int64(64)
		if v, err := strconv.ParseInt(os.Getenv("SECURECART_BENCH_SCAN_MIB"), 10, 64); err == nil && v > 0 {
			mib = v
		}
		var buf bytes.Buffer
		buf.Grow(int(mib<<20) + 4096)
		labels, err := scantest.WriteLog(&buf, "bench.log", mib<<20, 42, 10_000)
		if err != nil {
			b.Fatal(err)
		}
		benchText, benchLabels = buf.Bytes(), labels
	})
	return benchText, benchLabels
}

// spans converts matches for scantest.Recall.
func spans(ms []Match) []scantest.Span {
	out := make([]scantest.Span, len(ms))
	for i, m := range ms {
		out[i] = scantest.Span{Detector: m.Detector, Start: m.Start, End: m.End}
	}
	return out
}

// baselineMiB is how much of the text the regexp baseline reads: it is
// some hundred times slower, and its MB/s does not depend on the size.
const baselineMiB = 8

// BenchmarkScanThroughput runs every detector over the text on one
// core, beside the regexp baseline, and reports recall on the planted
// values as a metric.
func BenchmarkScanThroughput(b *testing.B) {
	text, labels := throughputText(b)
	b.Run("securecart", func(b *testing.B) {
		b.SetBytes(int64(len(text)))
		var ms []Match
		for b.Loop() {
			ms = FindSet(text, AllSet)
		}
		r, _ := scantest.Recall(labels, spans(ms), "")
		b.ReportMetric(r, "recall")
	})
	b.Run("regexp", func(b *testing.B) {
		part := text[:min(len(text), baselineMiB<<20)]
		b.SetBytes(int64(len(part)))
		var ss []scantest.Span
		for b.Loop() {
			ss = scantest.BaselineFind(part)
		}
		var in []scantest.Label
		for _, l := range labels {
			if l.Offset+l.Length <= len(part) {
				in = append(in, l)
			}
		}
		r, _ := scantest.Recall(in, ss, "")
		b.ReportMetric(r, "recall")
	})
}

// BenchmarkScanReader is the streamed scan a file gets, with findings
// filtered by confidence, at the default window.
func BenchmarkScanReader(b *testing.B) {
	text, _ := throughputText(b)
	sc, err := NewScanner(Options{MinConfidence: DefaultMinConfidence})
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if _, err := sc.Reader(b.Context(), "bench", bytes.NewReader(text), func(Finding) {}); err != nil {
			b.Fatal(err)
		}
	}
}
