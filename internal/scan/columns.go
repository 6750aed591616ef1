package scan

import "bytes"

// Column names as context. In a CSV or TSV export the word that says
// what a value is stands in the header, not beside the value: a bare
// card number under "card_number" has no context word on its line. A
// streamed scan reads the first line as a header when it looks like
// one, and a match in a row with as many fields as the header gets the
// words of its column's name as context too.

const (
	maxHeaderLine  = 4 << 10
	maxColumnName  = 64
	maxColumnCount = 256
	maxRowAfter    = 4 << 10
)

// columnContext are the detectors whose confidence a column name may
// change: those whose context words are about what a value means.
var columnContext = map[string]bool{
	DetectorCard: true, DetectorSSN: true, DetectorPhone: true, DetectorIBAN: true,
	DetectorIPv4: true, DetectorIPv6: true,
}

// header is the first line of a delimited text.
type header struct {
	sep   byte
	names [][]byte
}

// parseHeader returns the header that text starts with, or nil: a first
// line of at least two fields split by ',', ';', tab or '|' (the most
// frequent of them), each a name of up to 64 bytes that starts with a
// letter, perhaps quoted, and holds only letters, digits, spaces and
// "_-.#/".
func parseHeader(text []byte) *header {
	end := bytes.IndexByte(text[:min(len(text), maxHeaderLine)], '\n')
	if end < 0 {
		return nil
	}
	line := bytes.TrimSuffix(text[:end], []byte{'\r'})
	var sep byte
	best := 0
	for _, c := range []byte{',', ';', '\t', '|'} {
		if n := bytes.Count(line, []byte{c}); n > best {
			sep, best = c, n
		}
	}
	if best == 0 || best >= maxColumnCount {
		return nil
	}
	h := &header{sep: sep}
	for _, f := range bytes.Split(line, []byte{sep}) {
		name := bytes.Trim(bytes.TrimSpace(f), `"`)
		if !columnName(name) {
			return nil
		}
		h.names = append(h.names, bytes.Clone(name)) // text is a buffer used again
	}
	return h
}

func columnName(b []byte) bool {
	if len(b) == 0 || len(b) > maxColumnName || !is(b[0], cLetter) {
		return false
	}
	for _, c := range b {
		if !is(c, cAlnum) && bytes.IndexByte([]byte(" _-.#/"), c) < 0 {
			return false
		}
	}
	return true
}

// column returns the name of the column that holds text[at], on the
// line that starts at lineStart, or nil when the line is not a row of
// as many fields as the header. Separators inside double quotes do not
// count. The row must start at most leftContext bytes before at and end
// at most maxRowAfter bytes after it, which a streamed scan always has in
// its window, so that a scan in memory and a streamed one agree.
func (h *header) column(text []byte, lineStart, at int) []byte {
	if lineStart < 0 || lineStart > at || at-lineStart > leftContext {
		return nil
	}
	end := bytes.IndexByte(text[at:min(len(text), at+maxRowAfter)], '\n')
	switch {
	case end >= 0:
		end += at
	case len(text)-at <= maxRowAfter:
		end = len(text)
	default:
		return nil
	}
	col, fields, quoted := -1, 0, false
	for k := lineStart; k < end; k++ {
		if k == at {
			col = fields
		}
		switch text[k] {
		case '"':
			quoted = !quoted
		case h.sep:
			if !quoted {
				fields++
			}
		}
	}
	if col < 0 || fields+1 != len(h.names) {
		return nil
	}
	return h.names[col]
}

// rerate rates m again with the name of its column as context, when
// head names the columns of text and m's line (from lineStart) is a row.
func (h *header) rerate(text []byte, m *Match, lineStart int) {
	if h == nil || !columnContext[m.Detector] {
		return
	}
	if name := h.column(text, lineStart, m.Start); name != nil {
		m.Confidence = rate(text, *m, name)
	}
}
