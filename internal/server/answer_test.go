package server

import (
	"bytes"
	"testing"
)

// A pooled answer buffer goes back to the pool with its bytes cleared:
// the PII of one answer is not left in memory for the next request.
func TestPutJSONBufClears(t *testing.T) {
	b := new(bytes.Buffer)
	b.WriteString(`{"name":"Ada Lovelace","email":"ada@example.com"}`)
	putJSONBuf(b)
	for i, c := range b.Bytes() {
		if c != 0 {
			t.Fatalf("byte %d of the returned buffer is %q, want 0", i, c)
		}
	}
}
