package scan

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/scan/scantest"
)

//go:generate go test -run TestCorpus -regen-corpus

var regenCorpus = flag.Bool("regen-corpus", false, "write testdata/corpus from the generator")

const (
	corpusSeed  = 20261203
	corpusItems = 5000
	corpusDir   = "testdata/corpus"
)

// loadCorpus returns the committed corpus, after checking that the
// generator still makes exactly it.
func loadCorpus(t *testing.T) scantest.Corpus {
	c := scantest.Generate(corpusSeed, corpusItems)
	labels, err := json.MarshalIndent(c.Labels, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"labels.json": append(labels, '\n')}
	for name, b := range c.Files {
		files[name] = b
	}
	if *regenCorpus {
		if err := os.MkdirAll(corpusDir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, b := range files {
			if err := os.WriteFile(filepath.Join(corpusDir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for name, b := range files {
		got, err := os.ReadFile(filepath.Join(corpusDir, name))
		if err != nil || !bytes.Equal(got, b) {
			t.Fatalf("%s/%s differs from what the generator makes (%v); run go generate ./internal/scan", corpusDir, name, err)
		}
	}
	return c
}

type tally struct{ tp, fp, fn int }

func (t tally) precision() float64 { return ratio(t.tp, t.tp+t.fp) }
func (t tally) recall() float64    { return ratio(t.tp, t.tp+t.fn) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 1
	}
	return float64(a) / float64(b)
}

// TestCorpus measures precision and recall per detector on the labelled
// corpus, scanned as files are: streamed, at the default confidence.
func TestCorpus(t *testing.T) {
	c := loadCorpus(t)
	positives := len(c.Labels)
	negatives := 0
	for _, n := range c.Negatives {
		negatives += n
	}
	if positives < 2000 || negatives < 2000 {
		t.Fatalf("corpus has %d positives and %d hard negatives, want 2000 of each", positives, negatives)
	}

	sc := mustScanner(t, Options{MinConfidence: DefaultMinConfidence})
	byDet := map[string]*tally{}
	byForm := map[string]*tally{} // detector/form
	get := func(m map[string]*tally, k string) *tally {
		if m[k] == nil {
			m[k] = &tally{}
		}
		return m[k]
	}

	for name, text := range c.Files {
		var found []Finding
		if _, err := sc.Reader(context.Background(), name, bytes.NewReader(text),
			func(f Finding) { found = append(found, f) }); err != nil {
			t.Fatal(err)
		}
		used := make([]bool, len(found))
		for _, l := range c.Labels {
			if l.File != name {
				continue
			}
			hit := false
			for i, f := range found {
				if f.Detector == l.Detector && f.Offset < int64(l.Offset+l.Length) && int64(l.Offset) < f.Offset+int64(f.Length) {
					hit, used[i] = true, true
				}
			}
			for _, tl := range []*tally{get(byDet, l.Detector), get(byForm, l.Detector+"/"+l.Form)} {
				if hit {
					tl.tp++
				} else {
					tl.fn++
				}
			}
		}
		for i, f := range found {
			if !used[i] {
				get(byDet, f.Detector).fp++
				t.Logf("false positive: %s %s:%d:%d %q", f.Detector, name, f.Line, f.Column,
					text[f.Offset:f.Offset+int64(f.Length)])
			}
		}
	}

	var report strings.Builder
	fmt.Fprintf(&report, "%d positives, %d hard negatives %v\n", positives, negatives, c.Negatives)
	fmt.Fprintf(&report, "%-22s %6s %6s %6s %9s %7s\n", "detector", "tp", "fp", "fn", "precision", "recall")
	for _, m := range []map[string]*tally{byDet, byForm} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			tl := m[k]
			fmt.Fprintf(&report, "%-22s %6d %6d %6d %9.3f %7.3f\n", k, tl.tp, tl.fp, tl.fn, tl.precision(), tl.recall())
		}
	}
	t.Log("\n" + report.String())

	need := func(what string, got, want float64) {
		if got < want {
			t.Errorf("%s = %.3f, want at least %.2f", what, got, want)
		}
	}
	need("card recall with separators", get(byForm, "card/grouped").recall(), 1)
	need("card recall with a context word", get(byForm, "card/context").recall(), 1)
	need("card recall under a column name", get(byForm, "card/column").recall(), 1)
	need("card precision", get(byDet, "card").precision(), 0.95)
	need("IBAN recall", get(byDet, "iban").recall(), 1)
	for _, d := range Detectors() {
		tl := get(byDet, d)
		if tl.tp+tl.fn == 0 {
			t.Errorf("no %s in the corpus", d)
			continue
		}
		need(d+" precision", tl.precision(), 0.95)
		if d != DetectorCard {
			need(d+" recall", tl.recall(), 0.99)
		}
	}
}
