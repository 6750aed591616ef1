package scantest

import (
	"bytes"
	"testing"
)

func TestWriteLogPlantsLabelledValues(t *testing.T) {
	var b bytes.Buffer
	labels, err := WriteLog(&b, "log", 1<<20, 1, 10<<10)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(labels); n < 80 || n > 130 {
		t.Errorf("%d values in 1 MiB, want about one per 10 KiB", n)
	}
	text := b.Bytes()
	for _, l := range labels {
		v := text[l.Offset : l.Offset+l.Length]
		if l.Length == 0 || bytes.ContainsAny(v, "\n\"") {
			t.Fatalf("label %+v marks %q", l, v)
		}
	}
	var again bytes.Buffer
	WriteLog(&again, "log", 1<<20, 1, 10<<10)
	if !bytes.Equal(again.Bytes(), text) {
		t.Error("the same seed wrote different text")
	}
}

func TestGenerateIsDeterministic(t *testing.T) {
	a, b := Generate(7, 300), Generate(7, 300)
	for name, f := range a.Files {
		if !bytes.Equal(f, b.Files[name]) {
			t.Errorf("%s differs between two runs with one seed", name)
		}
	}
	if len(a.Labels) < 140 || len(a.Labels) != len(b.Labels) {
		t.Errorf("labels: %d and %d", len(a.Labels), len(b.Labels))
	}
}
