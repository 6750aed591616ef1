package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/rfc6962"
)

// Segment files: see "Files" in the package doc.
const (
	segMagic     = "SCAUDIT1"
	segExt       = ".seg"
	frameHead    = 4 + 8 // length, sequence number
	frameTail    = 4     // CRC-32C
	frameMaxBody = MaxRecordSize
	hashSize     = 32
	maxHeadNodes = 64
)

var (
	crcTable = crc32.MakeTable(crc32.Castagnoli)
	hasher   = rfc6962.DefaultHasher
	ranges   = &compact.RangeFactory{Hash: hasher.HashChildren}
)

// segName is the file name of the segment whose first record is seq.
func segName(seq uint64) string {
	return fmt.Sprintf("%020d%s", seq, segExt)
}

// segment is a segment file found in a directory.
type segment struct {
	first uint64
	path  string
}

// listSegments returns the segments of dir in order.
func listSegments(dir string) ([]segment, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read audit directory: %w", err)
	}
	var segs []segment
	for _, e := range ents {
		n := e.Name()
		if !strings.HasSuffix(n, segExt) || len(n) != 20+len(segExt) {
			continue
		}
		first, err := strconv.ParseUint(strings.TrimSuffix(n, segExt), 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, segment{first: first, path: filepath.Join(dir, n)})
	}
	slices.SortFunc(segs, func(a, b segment) int { return int64cmp(a.first, b.first) })
	return segs, nil
}

func int64cmp(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// segHeader encodes a segment header: the magic, the sequence number of
// its first record and the compact range of every record before it.
func segHeader(first uint64, hashes [][]byte) []byte {
	b := append([]byte(segMagic), 0, 0, 0, 0, 0, 0, 0, 0)
	binary.BigEndian.PutUint64(b[8:], first)
	b = append(b, byte(len(hashes)))
	for _, h := range hashes {
		b = append(b, h...)
	}
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// readHeader reads a segment header and returns the compact range it holds.
func readHeader(r io.Reader) (*compact.Range, int64, error) {
	fixed := make([]byte, 17)
	if _, err := io.ReadFull(r, fixed); err != nil {
		return nil, 0, errHeader
	}
	if string(fixed[:8]) != segMagic || int(fixed[16]) > maxHeadNodes {
		return nil, 0, errHeader
	}
	first := binary.BigEndian.Uint64(fixed[8:])
	rest := make([]byte, int(fixed[16])*hashSize+4)
	if _, err := io.ReadFull(r, rest); err != nil {
		return nil, 0, errHeader
	}
	body := append(fixed, rest[:len(rest)-4]...)
	if crc32.Checksum(body, crcTable) != binary.BigEndian.Uint32(rest[len(rest)-4:]) {
		return nil, 0, errHeader
	}
	hashes := make([][]byte, fixed[16])
	for i := range hashes {
		hashes[i] = rest[i*hashSize : (i+1)*hashSize]
	}
	rng, err := ranges.NewRange(0, first, hashes)
	if err != nil {
		return nil, 0, errHeader
	}
	return rng, int64(len(body) + 4), nil
}

var (
	errHeader = errors.New("bad segment header")
	errFrame  = errors.New("bad record frame")
	errTorn   = errors.New("incomplete record frame at the end of the segment")
)

// appendFrame appends the frame of one encoded record.
func appendFrame(b []byte, seq uint64, rec []byte) []byte {
	start := len(b)
	b = binary.BigEndian.AppendUint32(b, uint32(len(rec)))
	b = binary.BigEndian.AppendUint64(b, seq)
	b = append(b, rec...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b[start:], crcTable))
}

// frameReader reads the frames of one segment.
type frameReader struct {
	r   *bufio.Reader
	off int64 // offset of the next frame
	buf []byte
}

// next returns the next frame's sequence number and record. The record is
// valid until the following call. At the end of the segment it returns
// io.EOF; a frame cut short by the end of the file is errTorn, and a
// frame whose length or checksum is wrong is errFrame.
func (fr *frameReader) next() (uint64, []byte, error) {
	head, err := fr.r.Peek(frameHead)
	if len(head) == 0 && err == io.EOF {
		return 0, nil, io.EOF
	}
	if len(head) < frameHead {
		return 0, nil, errTorn
	}
	n := int(binary.BigEndian.Uint32(head))
	if n < fixedSize || n > frameMaxBody {
		return 0, nil, errFrame
	}
	total := frameHead + n + frameTail
	if cap(fr.buf) < total {
		fr.buf = make([]byte, total)
	}
	b := fr.buf[:total]
	if _, err := io.ReadFull(fr.r, b); err != nil {
		return 0, nil, errTorn
	}
	if crc32.Checksum(b[:total-frameTail], crcTable) != binary.BigEndian.Uint32(b[total-frameTail:]) {
		return 0, nil, errFrame
	}
	fr.off += int64(total)
	return binary.BigEndian.Uint64(b[4:]), b[frameHead : frameHead+n], nil
}

// openSegment opens a segment for reading and reads its header.
func openSegment(path string) (*os.File, *compact.Range, *frameReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open segment: %w", err)
	}
	br := bufio.NewReaderSize(f, 1<<16)
	rng, off, err := readHeader(br)
	if err != nil {
		f.Close()
		return nil, nil, nil, err
	}
	return f, rng, &frameReader{r: br, off: off}, nil
}

// treeHasher computes RFC 6962 leaf and node hashes with one reused
// SHA-256 state, carving results from larger blocks, for the loops that
// hash every record (Verify). It is not safe for concurrent use.
type treeHasher struct {
	h    hash.Hash
	slab []byte
}

func newTreeHasher() *treeHasher { return &treeHasher{h: sha256.New()} }

func (t *treeHasher) sum() []byte {
	if len(t.slab) < hashSize {
		t.slab = make([]byte, 1024*hashSize)
	}
	out := t.h.Sum(t.slab[:0:hashSize])
	t.slab = t.slab[hashSize:]
	return out
}

func (t *treeHasher) leaf(rec []byte) []byte {
	t.h.Reset()
	t.h.Write([]byte{rfc6962.RFC6962LeafHashPrefix})
	t.h.Write(rec)
	return t.sum()
}

func (t *treeHasher) children(l, r []byte) []byte {
	t.h.Reset()
	t.h.Write([]byte{rfc6962.RFC6962NodeHashPrefix})
	t.h.Write(l)
	t.h.Write(r)
	return t.sum()
}

// rangeFrom returns a copy of rng that hashes with t.
func (t *treeHasher) rangeFrom(rng *compact.Range) (*compact.Range, error) {
	f := &compact.RangeFactory{Hash: t.children}
	return f.NewRange(rng.Begin(), rng.End(), cloneHashes(rng.Hashes()))
}

// sameRange reports whether two ranges hold the same nodes.
func sameRange(a, b *compact.Range) bool {
	return a.Begin() == b.Begin() && a.End() == b.End() && slices.EqualFunc(a.Hashes(), b.Hashes(), bytes.Equal)
}

var leafStates = sync.Pool{New: func() any { return sha256.New() }}

// leafHash is hasher.HashLeaf with a pooled SHA-256 state.
func leafHash(rec []byte) []byte {
	h := leafStates.Get().(hash.Hash)
	h.Reset()
	h.Write([]byte{rfc6962.RFC6962LeafHashPrefix})
	h.Write(rec)
	out := h.Sum(make([]byte, 0, hashSize))
	leafStates.Put(h)
	return out
}
