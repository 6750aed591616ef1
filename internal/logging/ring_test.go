package logging

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func lineStrings(lines []json.RawMessage) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = string(l)
	}
	return out
}

func TestRingBoundAndOrder(t *testing.T) {
	tests := []struct {
		name   string
		size   int
		writes int
		limit  int
		want   []string
	}{
		{"empty", 3, 0, 0, []string{}},
		{"partial", 3, 2, 0, []string{"0", "1"}},
		{"exactly full", 3, 3, 0, []string{"0", "1", "2"}},
		{"wrapped", 3, 7, 0, []string{"4", "5", "6"}},
		{"limit", 3, 7, 2, []string{"5", "6"}},
		{"limit above held", 5, 2, 4, []string{"0", "1"}},
		{"negative limit", 3, 4, -1, []string{"1", "2", "3"}},
		{"size one", 1, 3, 0, []string{"2"}},
		{"size zero is one", 0, 3, 0, []string{"2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(tt.size)
			for i := range tt.writes {
				fmt.Fprintf(r, "%d\n", i)
			}
			got := lineStrings(r.Lines(tt.limit))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Lines(%d) = %v, want %v", tt.limit, got, tt.want)
			}
		})
	}
}

func TestRingWrite(t *testing.T) {
	long := `{"msg":"` + strings.Repeat("a", MaxLineBytes) + `"}`
	cut, _ := json.Marshal(long[:MaxLineBytes])
	tests := []struct {
		name  string
		write string
		want  []string
	}{
		{"one line", `{"a":1}` + "\n", []string{`{"a":1}`}},
		{"no newline", `{"a":1}`, []string{`{"a":1}`}},
		{"several", "{\"a\":1}\n\n{\"b\":2}\r\n", []string{`{"a":1}`, `{"b":2}`}},
		{"not json", "plain text\n", []string{`"plain text"`}},
		{"redacted", `{"msg":"mail jane.doe@example.com"}`, []string{`{"msg":"mail j•••@example.com"}`}},
		{"redacted not json", `{"pan":4111111111111111}`, []string{`"{\"pan\":[card ••••1111]}"`}},
		{"too long", long, []string{string(cut)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewRing(10)
			n, err := r.Write([]byte(tt.write))
			if n != len(tt.write) || err != nil {
				t.Fatalf("Write = %d, %v, want %d, nil", n, err, len(tt.write))
			}
			got := lineStrings(r.Lines(0))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("Lines() = %.200v, want %.200v", got, tt.want)
			}
		})
	}
}

func TestRingCopiesLines(t *testing.T) {
	r := NewRing(2)
	buf := []byte(`{"a":1}`)
	r.Write(buf)
	copy(buf, `{"b":2}`)
	if got := string(r.Lines(0)[0]); got != `{"a":1}` {
		t.Errorf("ring line changed with the caller's buffer: %s", got)
	}
}

// TestRingConcurrent logs from many goroutines while others read; run it
// with -race.
func TestRingConcurrent(t *testing.T) {
	const writers, perWriter, size = 8, 200, 64
	ring := NewRing(size)
	log := slog.New(NewHandler(nil, ring, nil))

	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			ctx := WithRequestID(context.Background(), fmt.Sprintf("req-%d", w))
			for i := range perWriter {
				log.InfoContext(ctx, "paid", "n", i, "pan", testPAN)
			}
		})
	}
	for range 2 {
		wg.Go(func() {
			for range perWriter {
				for _, l := range ring.Lines(10) {
					if !json.Valid(l) {
						t.Errorf("invalid line %s", l)
					}
				}
			}
		})
	}
	wg.Wait()

	lines := ring.Lines(0)
	if len(lines) != size {
		t.Fatalf("ring holds %d lines, want %d", len(lines), size)
	}
	for _, l := range lines {
		if strings.Contains(string(l), testPAN) {
			t.Fatalf("line holds the card number: %s", l)
		}
	}
}
