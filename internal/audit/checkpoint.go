package audit

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is the body of a signed checkpoint: the state of the log at
// one moment. Its text form is in the package doc.
type Checkpoint struct {
	Origin string
	Size   uint64
	Root   []byte
	Time   time.Time
	// Number counts the log's checkpoints from 1 without gaps.
	Number uint64
}

// ErrCheckpoint is returned, wrapped, for a checkpoint that does not parse
// or whose signature does not verify.
var ErrCheckpoint = errors.New("audit: bad checkpoint")

const (
	cpTimePrefix   = "time "
	cpNumberPrefix = "checkpoint "
	maxCheckpoint  = 4096
	sigPrefix      = "\u2014 "
)

// Text returns the note text of c.
func (c Checkpoint) Text() string {
	return c.Origin + "\n" +
		strconv.FormatUint(c.Size, 10) + "\n" +
		base64.StdEncoding.EncodeToString(c.Root) + "\n" +
		cpTimePrefix + c.Time.UTC().Format(time.RFC3339Nano) + "\n" +
		cpNumberPrefix + strconv.FormatUint(c.Number, 10) + "\n"
}

// ParseCheckpoint parses the text of a checkpoint (without signatures). It
// accepts only text that Text produces.
func ParseCheckpoint(text string) (Checkpoint, error) {
	bad := func(what string) (Checkpoint, error) {
		return Checkpoint{}, fmt.Errorf("%w: %s", ErrCheckpoint, what)
	}
	if len(text) > maxCheckpoint {
		return bad("too long")
	}
	lines := strings.Split(text, "\n")
	if len(lines) != 6 || lines[5] != "" {
		return bad("want 5 lines")
	}
	var c Checkpoint
	c.Origin = lines[0]
	if c.Origin == "" {
		return bad("no origin")
	}
	size, err := strconv.ParseUint(lines[1], 10, 64)
	if err != nil {
		return bad("tree size")
	}
	c.Size = size
	root, err := base64.StdEncoding.Strict().DecodeString(lines[2])
	if err != nil || len(root) != hashSize {
		return bad("root hash")
	}
	c.Root = root
	ts, ok := strings.CutPrefix(lines[3], cpTimePrefix)
	if !ok {
		return bad("time")
	}
	if c.Time, err = time.Parse(time.RFC3339Nano, ts); err != nil {
		return bad("time")
	}
	num, ok := strings.CutPrefix(lines[4], cpNumberPrefix)
	if !ok {
		return bad("number")
	}
	if c.Number, err = strconv.ParseUint(num, 10, 64); err != nil || c.Number == 0 {
		return bad("number")
	}
	if c.Text() != text {
		return bad("not in canonical form")
	}
	return c, nil
}

// OpenCheckpoint verifies a signed checkpoint with any of the verifiers and
// parses it. The signing key's name must be the checkpoint's origin.
func OpenCheckpoint(signed []byte, verifiers ...note.Verifier) (Checkpoint, error) {
	if len(signed) > maxCheckpoint {
		return Checkpoint{}, fmt.Errorf("%w: too long", ErrCheckpoint)
	}
	n, err := note.Open(signed, note.VerifierList(verifiers...))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	c, err := ParseCheckpoint(n.Text)
	if err != nil {
		return Checkpoint{}, err
	}
	for _, s := range n.Sigs {
		if s.Name == c.Origin {
			return c, nil
		}
	}
	return Checkpoint{}, fmt.Errorf("%w: not signed by a key named %q", ErrCheckpoint, c.Origin)
}

// signCheckpoint returns the signed note of c.
func signCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	return note.Sign(&note.Note{Text: c.Text()}, s)
}

// splitNotes splits the checkpoints file into its signed notes. A note
// that the end of the data cuts short is left out and its offset returned
// as torn (otherwise torn is len(data)).
func splitNotes(data []byte) (notes [][]byte, torn int) {
	start := 0
	for start < len(data) {
		end := noteEnd(data[start:])
		if end < 0 {
			return notes, start
		}
		notes = append(notes, data[start:start+end])
		start += end
	}
	return notes, len(data)
}

// noteEnd returns the length of the signed note at the start of b: text,
// a blank line, then one or more signature lines. It returns -1 if b ends
// before the note does.
func noteEnd(b []byte) int {
	i := bytes.Index(b, []byte("\n\n"))
	if i < 0 {
		return -1
	}
	pos, sigs := i+2, 0
	for pos < len(b) && bytes.HasPrefix(b[pos:], []byte(sigPrefix)) {
		nl := bytes.IndexByte(b[pos:], '\n')
		if nl < 0 {
			return -1
		}
		pos += nl + 1
		sigs++
	}
	if sigs == 0 || (pos == len(b) && !bytes.HasSuffix(b, []byte("\n"))) {
		return -1
	}
	return pos
}
