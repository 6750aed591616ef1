package report

import (
	"bufio"
	"encoding/json"
	"io"

	"github.com/securecart/securecart/internal/scan"
)

// jsonReport writes one JSON document:
//
//	{"findings": [...], "summary": {...}}
//
// streaming the findings as they come.
type jsonReport struct {
	w   *bufio.Writer
	sum *Summary
	n   int
	err error
}

func newJSON(w io.Writer) *jsonReport {
	j := &jsonReport{w: bufio.NewWriter(w), sum: newSummary()}
	j.write([]byte(`{"findings":[`))
	return j
}

func (j *jsonReport) write(b []byte) {
	if j.err == nil {
		_, j.err = j.w.Write(b)
	}
}

func (j *jsonReport) Finding(f scan.Finding) error {
	j.sum.finding(f)
	b, err := json.Marshal(f)
	if err != nil {
		return err
	}
	if j.n > 0 {
		j.write([]byte(","))
	}
	j.write([]byte("\n  "))
	j.write(b)
	j.n++
	return j.err
}

func (j *jsonReport) Object(o scan.Object) error {
	j.sum.object(o)
	return j.err
}

func (j *jsonReport) Summary() *Summary { return j.sum }

func (j *jsonReport) Close() error {
	b, err := json.Marshal(j.sum)
	if err != nil {
		return err
	}
	j.write([]byte("\n],\n\"summary\":"))
	j.write(b)
	j.write([]byte("}\n"))
	if j.err == nil {
		j.err = j.w.Flush()
	}
	return j.err
}
