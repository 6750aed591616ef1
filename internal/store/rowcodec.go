package store

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Binary row form
//
// Snapshots carry rows in a compact binary form rather than JSON, so that
// exporting and loading millions of rows costs no text encoding. A row is
// its columns in the table's column order, each a kind byte then the value:
//
//	0  NULL
//	1  integer, zig-zag varint
//	2  text, uvarint length then UTF-8 bytes
//	3  bytes, uvarint length then the bytes
//
// The form has no engine-specific type: SQLite and PostgreSQL load it the
// same way.

const (
	kindNull  = 0
	kindInt   = 1
	kindText  = 2
	kindBytes = 3
)

// maxEncodedRow bounds one encoded row.
const maxEncodedRow = 1 << 20

var errRowForm = errors.New("malformed binary row")

func appendRow(dst []byte, cols []column) []byte {
	for _, c := range cols {
		switch v := c.value.(type) {
		case int64:
			dst = append(dst, kindInt)
			dst = binary.AppendVarint(dst, v)
		case string:
			dst = append(dst, kindText)
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		case []byte:
			if v == nil {
				dst = append(dst, kindNull)
				continue
			}
			dst = append(dst, kindBytes)
			dst = binary.AppendUvarint(dst, uint64(len(v)))
			dst = append(dst, v...)
		default:
			panic(fmt.Sprintf("store: column %s has type %T", c.name, c.value))
		}
	}
	return dst
}

// decodeBinaryRow parses an encoded row of table against the table's
// column kinds: each value must have its column's type (bytes columns may
// be NULL), and nothing may follow the last column.
func decodeBinaryRow(table string, b []byte) ([]column, error) {
	def, ok := tableDefs[table]
	if !ok {
		return nil, fmt.Errorf("unknown table %q", table)
	}
	if len(b) > maxEncodedRow {
		return nil, errRowForm
	}
	shape := def.newRow().columns()
	cols := make([]column, len(shape))
	for i, want := range shape {
		if len(b) == 0 {
			return nil, errRowForm
		}
		kind := b[0]
		b = b[1:]
		cols[i].name = want.name
		switch want.value.(type) {
		case int64:
			if kind != kindInt {
				return nil, errRowForm
			}
			v, n := binary.Varint(b)
			if n <= 0 {
				return nil, errRowForm
			}
			cols[i].value, b = v, b[n:]
		case string, []byte:
			_, isText := want.value.(string)
			if kind == kindNull && !isText {
				cols[i].value = []byte(nil)
				continue
			}
			if isText && kind != kindText || !isText && kind != kindBytes {
				return nil, errRowForm
			}
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return nil, errRowForm
			}
			v := b[n : n+int(l)]
			if isText {
				cols[i].value = string(v)
			} else {
				cols[i].value = v
			}
			b = b[n+int(l):]
		}
	}
	if len(b) != 0 {
		return nil, errRowForm
	}
	return checkRow(table, rowOf(cols))
}

// rowOf adapts decoded columns to checkRow.
type rowOf []column

func (r rowOf) columns() []column                          { return r }
func (r rowOf) scan(interface{ Scan(...any) error }) error { return errRowForm }
