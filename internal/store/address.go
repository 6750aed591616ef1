package store

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// decodeAddress reads an address as json.Marshal wrote it. Addresses are
// opened on every customer read, and most are plain text that
// json.Marshal writes without an escape; those are read here directly, in
// the order and with the omitted empty fields that Marshal produces. Any
// other input, an escape included, goes to json.Unmarshal, so the result
// is always what json.Unmarshal would give.
func decodeAddress(b []byte, a *Address) error {
	if fastAddress(b, a) {
		return nil
	}
	*a = Address{}
	return json.Unmarshal(b, a)
}

// addressFields are Address's JSON fields in order; omitempty marks those
// Marshal leaves out when empty.
var addressFields = [...]struct {
	name      string
	omitempty bool
}{
	{"line1", false}, {"line2", true}, {"city", false},
	{"region", true}, {"postal_code", false}, {"country", false},
}

// fastAddress reports whether it could read b; when it could not, a may
// hold part of b.
func fastAddress(b []byte, a *Address) bool {
	dst := [...]*string{&a.Line1, &a.Line2, &a.City, &a.Region, &a.PostalCode, &a.Country}
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return false
	}
	rest := b[1 : len(b)-1]
	for i, f := range addressFields {
		key := `"` + f.name + `":"`
		if !bytes.HasPrefix(rest, []byte(key)) {
			if f.omitempty {
				*dst[i] = ""
				continue
			}
			return false
		}
		rest = rest[len(key):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			return false
		}
		v := rest[:end]
		if bytes.IndexByte(v, '\\') >= 0 || !plainJSON(v) || (f.omitempty && len(v) == 0) {
			return false
		}
		*dst[i] = string(v)
		rest = rest[end+1:]
		if i < len(addressFields)-1 {
			if len(rest) == 0 || rest[0] != ',' {
				return false
			}
			rest = rest[1:]
		}
	}
	return len(rest) == 0
}

// plainJSON reports whether v is valid UTF-8 with nothing that a JSON
// string must escape or that json.Marshal would have escaped.
func plainJSON(v []byte) bool {
	for _, c := range v {
		if c < 0x20 || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return utf8.Valid(v) && !bytes.Contains(v, []byte("\u2028")) && !bytes.Contains(v, []byte("\u2029"))
}
