package audit

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// OpenArchived opens an object the archiver stored, a sealed chunk of
// records in the audit bucket or a sealed segment in the archive bucket,
// and returns its records as OCSF JSON lines, one record a line: the text
// a scan for sensitive data reads. It is for such scans only, in memory;
// audit verify and Fetch check the records against the tree, which this
// does not.
func OpenArchived(ctx context.Context, s Sealer, bucket, key string, sealed []byte) ([]byte, error) {
	i := strings.LastIndex(key, "/seg/")
	if i <= 0 {
		return nil, fmt.Errorf("open archived audit object %s: not a segment of the trail", key)
	}
	origin := key[:i]
	if _, _, ok := parseChunkKey(origin, key); !ok {
		if _, _, _, ok := parseArchiveKey(origin, key); !ok {
			return nil, fmt.Errorf("open archived audit object %s: not a segment of the trail", key)
		}
	}
	plain, err := s.Open(ctx, sealed, archiveBinding(origin, bucket, key))
	if err != nil {
		return nil, fmt.Errorf("open archived audit object %s: %w", key, err)
	}
	defer clear(plain)

	r := bytes.NewReader(plain)
	if _, _, err := readHeader(r); err != nil {
		return nil, fmt.Errorf("open archived audit object %s: %w", key, err)
	}
	fr := &frameReader{r: bufio.NewReader(r)}
	var out []byte
	for {
		seq, rec, err := fr.next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("open archived audit object %s: %w", key, err)
		}
		dec, err := Decode(rec)
		if err != nil {
			return nil, fmt.Errorf("open archived audit object %s: record %d: %w", key, seq, err)
		}
		line, err := MarshalOCSF(Entry{Seq: seq, Record: dec})
		if err != nil {
			return nil, err
		}
		out = append(append(out, line...), '\n')
	}
}
