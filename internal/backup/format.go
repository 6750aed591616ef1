package backup

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/store"
)

// Formats written in the first line of each sealed object.
const (
	segmentFormat  = "securecart-backup-segment-v1"
	manifestFormat = "securecart-backup-snapshot-v1"
	partFormat     = "securecart-backup-part-v1"
)

// Limits on what a decoder accepts.
const (
	maxPlain      = 60 << 20 // a decompressed segment, part or manifest
	maxLine       = 1 << 20  // one row or change
	maxParts      = 100000
	partPlainSize = 4 << 20 // a snapshot part is cut after this many bytes
)

// Object names inside the backups bucket, under the deployment's folder.
func segmentName(first, last int64) string {
	return fmt.Sprintf("seg/%020d-%020d", first, last)
}

func snapshotDir(pos int64, at time.Time) string {
	return fmt.Sprintf("snap/%020d-%020d", pos, at.UnixMicro())
}

func partName(dir string, i int) string { return fmt.Sprintf("%s/part-%06d", dir, i) }

func manifestName(dir string) string { return dir + "/manifest" }

func keystoreName(at time.Time) string { return fmt.Sprintf("keystore/%020d", at.UnixMicro()) }

// parseSegmentName returns a segment's range from its name.
func parseSegmentName(name string) (first, last int64, ok bool) {
	rest, found := strings.CutPrefix(name, "seg/")
	if !found || len(rest) != 41 || rest[20] != '-' {
		return 0, 0, false
	}
	a, err1 := strconv.ParseInt(rest[:20], 10, 64)
	b, err2 := strconv.ParseInt(rest[21:], 10, 64)
	if err1 != nil || err2 != nil || a < 1 || b < a {
		return 0, 0, false
	}
	return a, b, true
}

// parseSnapshotDir returns a snapshot's position and time from its folder.
func parseSnapshotDir(dir string) (pos int64, at time.Time, ok bool) {
	rest, found := strings.CutPrefix(dir, "snap/")
	if !found || len(rest) != 41 || rest[20] != '-' {
		return 0, time.Time{}, false
	}
	p, err1 := strconv.ParseInt(rest[:20], 10, 64)
	us, err2 := strconv.ParseInt(rest[21:], 10, 64)
	if err1 != nil || err2 != nil || p < 0 {
		return 0, time.Time{}, false
	}
	return p, time.UnixMicro(us).UTC(), true
}

// binding ties a sealed object to its deployment and its name, so a
// segment copied from another deployment or moved to another name does not
// open.
func binding(deployment, name string) envelope.Binding {
	return envelope.Binding{Table: "backup", Column: deployment, Row: name}
}

var (
	encoder, _ = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(2))
	decoder, _ = zstd.NewReader(nil, zstd.WithDecoderMaxMemory(maxPlain), zstd.WithDecoderConcurrency(0))
)

// seal compresses plain and seals it for the deployment and name.
func seal(ctx context.Context, s Sealer, deployment, name string, plain []byte) ([]byte, error) {
	z := encoder.EncodeAll(plain, make([]byte, 0, len(plain)/2+64))
	return s.SealFor(ctx, envelope.Backup, owner(deployment), binding(deployment, name), z)
}

// open reverses seal. Every failure is a *SegmentError naming the object.
func open(ctx context.Context, s Sealer, deployment, name string, sealed []byte) ([]byte, error) {
	h, err := envelope.Parse(sealed)
	if err != nil || h.Domain != envelope.Backup {
		return nil, &SegmentError{Name: name, Err: ErrCorrupt}
	}
	z, err := s.Open(ctx, sealed, binding(deployment, name))
	if err != nil {
		return nil, &SegmentError{Name: name, Err: fmt.Errorf("%w: %w", ErrCorrupt, err)}
	}
	plain, err := decoder.DecodeAll(z, nil)
	if err != nil || len(plain) > maxPlain {
		return nil, &SegmentError{Name: name, Err: ErrCorrupt}
	}
	return plain, nil
}

// owner is the keystore owner of a deployment's backup data key.
func owner(deployment string) string { return "backup:" + deployment }

// segHeader is the first line of a segment.
type segHeader struct {
	Format     string `json:"format"`
	Deployment string `json:"deployment"`
	First      int64  `json:"first"`
	Last       int64  `json:"last"`
}

// segChange is one change in a segment.
type segChange struct {
	Pos   int64           `json:"pos"`
	At    int64           `json:"at"`
	Table string          `json:"table"`
	Key   string          `json:"key"`
	Op    string          `json:"op"`
	After json.RawMessage `json:"after,omitempty"`
}

func encodeSegment(deployment string, cs []store.Change) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	err := enc.Encode(segHeader{Format: segmentFormat, Deployment: deployment,
		First: cs[0].Pos, Last: cs[len(cs)-1].Pos})
	for _, c := range cs {
		if err != nil {
			break
		}
		err = enc.Encode(segChange{Pos: c.Pos, At: c.At.UnixMicro(), Table: c.Table, Key: c.Key,
			Op: c.Op, After: c.After})
	}
	if err != nil {
		return nil, fmt.Errorf("encode segment: %w", err)
	}
	return b.Bytes(), nil
}

// decodeSegment parses a segment's plaintext and checks it against its
// name: same deployment, same range, every position once and in order.
func decodeSegment(deployment, name string, plain []byte) ([]store.Change, error) {
	first, last, ok := parseSegmentName(name)
	if !ok {
		return nil, &SegmentError{Name: name, Err: ErrCorrupt}
	}
	bad := func(why string) error {
		return &SegmentError{Name: name, Err: fmt.Errorf("%w: %s", ErrCorrupt, why)}
	}
	sc := bufio.NewScanner(bytes.NewReader(plain))
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	if !sc.Scan() {
		return nil, bad("empty")
	}
	var h segHeader
	if err := strict(sc.Bytes(), &h); err != nil || h.Format != segmentFormat {
		return nil, bad("not a segment")
	}
	if h.Deployment != deployment || h.First != first || h.Last != last {
		return nil, bad("header does not match the name")
	}
	out := make([]store.Change, 0, last-first+1)
	for sc.Scan() {
		var c segChange
		if err := strict(sc.Bytes(), &c); err != nil {
			return nil, bad("change: " + err.Error())
		}
		if c.Pos != first+int64(len(out)) || c.Pos > last {
			return nil, bad("positions out of order")
		}
		if c.Op != "insert" && c.Op != "update" && c.Op != "delete" || (c.Op == "delete") != (c.After == nil) {
			return nil, bad("invalid operation")
		}
		out = append(out, store.Change{Pos: c.Pos, At: time.UnixMicro(c.At).UTC(), Table: c.Table,
			Key: c.Key, Op: c.Op, After: c.After})
	}
	if err := sc.Err(); err != nil {
		return nil, bad(err.Error())
	}
	if int64(len(out)) != last-first+1 {
		return nil, bad("changes missing")
	}
	// Accept only what encodeSegment writes, byte for byte.
	if again, err := encodeSegment(deployment, out); err != nil || !bytes.Equal(again, plain) {
		return nil, bad("not in canonical form")
	}
	return out, nil
}

// manifest describes a complete snapshot. It is written after its parts.
type manifest struct {
	Format     string           `json:"format"`
	Deployment string           `json:"deployment"`
	Pos        int64            `json:"pos"`
	TakenAt    int64            `json:"taken_at"`
	Engine     string           `json:"engine"`
	Parts      []manifestPart   `json:"parts"`
	Rows       map[string]int64 `json:"rows"`
}

type manifestPart struct {
	Name string `json:"name"`
	Rows int64  `json:"rows"`
}

type partHeader struct {
	Format string `json:"format"`
	Pos    int64  `json:"pos"`
	Index  int    `json:"index"`
}

// appendRecord frames one exported row in a snapshot part: the table
// name and the row, each prefixed with its length as a uvarint.
func appendRecord(dst []byte, table string, row []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(table)))
	dst = append(dst, table...)
	dst = binary.AppendUvarint(dst, uint64(len(row)))
	return append(dst, row...)
}

// decodePart parses a snapshot part (a JSON header line, then framed rows)
// into a batch for the loader, and returns how many rows it held.
func decodePart(name string, pos int64, index int, plain []byte) (*store.Batch, error) {
	bad := func(why string) error {
		return &SegmentError{Name: name, Err: fmt.Errorf("%w: %s", ErrCorrupt, why)}
	}
	line, rest, ok := bytes.Cut(plain, []byte{'\n'})
	var h partHeader
	if err := strict(line, &h); !ok || err != nil || h.Format != partFormat || h.Pos != pos || h.Index != index {
		return nil, bad("header does not match the snapshot")
	}
	b := store.NewBatch()
	field := func() ([]byte, bool) {
		l, n := binary.Uvarint(rest)
		if n <= 0 || l > maxLine || l > uint64(len(rest)-n) {
			return nil, false
		}
		f := rest[n : n+int(l)]
		rest = rest[n+int(l):]
		return f, true
	}
	for len(rest) > 0 {
		table, ok1 := field()
		row, ok2 := field()
		if !ok1 || !ok2 {
			return nil, bad("row framing")
		}
		if err := b.Add(string(table), row); err != nil {
			return nil, bad(err.Error())
		}
	}
	return b, nil
}

func strict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("trailing data")
	}
	return nil
}
