package scantest

import (
	"bufio"
	"fmt"
	"io"
)

// WriteLog writes about size bytes of JSON log lines to w, with a
// sensitive value (of any detector but private_key) about every hitEvery
// bytes, and returns the labels of those values, named file.
func WriteLog(w io.Writer, file string, size int64, seed uint64, hitEvery int) ([]Label, error) {
	g := newGen(seed)
	bw := bufio.NewWriterSize(w, 64<<10)
	d := &doc{name: file}
	var written int64
	nextHit := int64(g.r.IntN(2 * hitEvery))

	for n := 0; written < size; n++ {
		d.b.Reset()
		first := len(d.labels)
		fmt.Fprintf(&d.b, `{"time":"2024-06-11T10:%02d:%02d.%06dZ","level":"INFO","msg":"request served",`+
			`"request_id":"%s","route":"/v1/orders/{id}","order":"ord_%d","status":%d,"bytes":%d,"dur_ms":%.3f`,
			n/60%60, n%60, g.r.IntN(1e6), g.uuid(), g.r.IntN(1e9), 200+g.r.IntN(5), g.r.IntN(1e5), g.r.Float64()*100)
		if written >= nextHit {
			d.b.WriteString(`,"note":"`)
			d.put(g.positive(pickWeighted(g, positiveWeights)), jsonEscape)
			d.b.WriteString(`"`)
			nextHit = written + int64(hitEvery/2+g.r.IntN(hitEvery))
		}
		d.b.WriteString("}\n")

		for i := first; i < len(d.labels); i++ {
			d.labels[i].Offset += int(written) // put counted from the line's start
		}
		if _, err := bw.WriteString(d.b.String()); err != nil {
			return nil, err
		}
		written += int64(d.b.Len())
	}
	return d.labels, bw.Flush()
}
