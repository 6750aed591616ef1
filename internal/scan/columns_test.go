package scan

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	for line, want := range map[string]string{
		"id,card_number,order_id\n":           "id|card_number|order_id",
		"\"Name\";\"Card Number\";Amount\r\n": "Name|Card Number|Amount",
		"name\tssn\n":                         "name|ssn",
		"2024-06-11 INFO paid, card ok\n":     "",
		"id,4111111111111111\n":               "",
		"just one column\n":                   "",
		"no line end, card":                   "",
		"a,,b\n":                              "",
	} {
		h := parseHeader([]byte(line))
		got := ""
		if h != nil {
			got = string(bytes.Join(h.names, []byte("|")))
		}
		if got != want {
			t.Errorf("parseHeader(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestColumnContext scans a CSV export whose card numbers are bare digits
// and checks that the column's name, not the line, says what they are.
func TestColumnContext(t *testing.T) {
	csv := "customer,card_number,order_id,note\n" +
		"jane,4539148803436467,4916338911859741,\"paid, thanks\"\n" +
		"john,5105105105105100,4539578763621486,none\n" +
		"ann,\"4024007103939509\",4485275742308327,extra,field\n"

	find := func(sc *Scanner, text string, window int) []string {
		var got []string
		if _, err := sc.Reader(context.Background(), "x.csv", strings.NewReader(text), func(f Finding) {
			got = append(got, text[f.Offset:f.Offset+int64(f.Length)])
		}); err != nil {
			t.Fatal(err)
		}
		return got
	}
	sc := mustScanner(t, Options{MinConfidence: DefaultMinConfidence})
	// The third row has a field too many: its columns are not known.
	if got := find(sc, csv, 0); strings.Join(got, " ") != "4539148803436467 5105105105105100" {
		t.Errorf("found %v, want the card_number column of the well-formed rows", got)
	}

	// The header counts in every window, not only the first.
	small := mustScanner(t, Options{MinConfidence: DefaultMinConfidence, Window: minWindow})
	pad := strings.Repeat("x,"+strings.Repeat("p", 1000)+",1,y\n", 2*(minWindow+windowOverlap)/1000)
	if got := find(small, csv[:strings.Index(csv, "\n")+1]+pad+"mary,4539148803436467,1,z\n", 0); len(got) != 1 {
		t.Errorf("after a window: found %v, want the card", got)
	}

	// Without the header the same rows hold nothing sure enough.
	if got := find(sc, csv[strings.Index(csv, "\n")+1:], 0); len(got) != 0 {
		t.Errorf("without a header: found %v", got)
	}

	// A column named for something else lowers a grouped number.
	sc0 := mustScanner(t, Options{})
	var conf []float64
	text := "order_id,amount\n4539 1488 0343 6467,12.00\n"
	if _, err := sc0.Reader(context.Background(), "o.csv", strings.NewReader(text), func(f Finding) {
		conf = append(conf, f.Confidence)
	}); err != nil {
		t.Fatal(err)
	}
	if len(conf) != 1 || conf[0] != 0.2 {
		t.Errorf("grouped card under order_id: confidences %v, want [0.2]", conf)
	}
}

// TestColumnContextInMemory checks that a value in memory gets the same
// column context as a streamed one, and that a row too long to read
// whole around the value gets none.
func TestColumnContextInMemory(t *testing.T) {
	sc := mustScanner(t, Options{MinConfidence: DefaultMinConfidence})
	csv := "name,card_number\njane,4539148803436467\n" +
		"john" + strings.Repeat("x", leftContext) + ",5105105105105100\n"
	got := sc.Text("obj", []byte(csv))
	if len(got) != 1 || got[0].Sample != "••••6467" || got[0].Confidence != 0.95 {
		t.Errorf("Text found %+v, want the first card at 0.95", got)
	}
	if streamed := readAll(t, mustScanner(t, Options{MinConfidence: DefaultMinConfidence}),
		strings.NewReader(csv)); len(streamed) != 1 || streamed[0] != got[0] {
		t.Errorf("streamed %+v, in memory %+v", streamed, got)
	}
}
