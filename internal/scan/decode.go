package scan

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

const (
	sniffLen = 8 << 10
	// maxZstdWindow bounds the memory a zstd stream may ask for; zstd's
	// own default allows streams that need far more than a scan should.
	maxZstdWindow = 8 << 20
)

// ErrBinary is returned, wrapped, for input that is not text.
var ErrBinary = errors.New("binary content")

// Decode returns the text of r: r itself, or its decompression when it
// starts as a gzip or zstd stream does. It returns ErrBinary, wrapped,
// when the text is not text: NUL bytes, or many control characters, in its
// first 8 KiB. Close the returned closer when done.
func Decode(r io.Reader) (io.Reader, io.Closer, error) {
	br := bufio.NewReaderSize(r, sniffLen)
	magic, _ := br.Peek(4)

	var text io.Reader = br
	var closer io.Closer = io.NopCloser(nil)
	switch {
	case len(magic) >= 2 && magic[0] == 0x1f && magic[1] == 0x8b:
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, nil, fmt.Errorf("read gzip: %w", err)
		}
		text, closer = zr, zr
	case bytes.Equal(magic, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		zr, err := zstd.NewReader(br,
			zstd.WithDecoderConcurrency(1),
			zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow))
		if err != nil {
			return nil, nil, fmt.Errorf("read zstd: %w", err)
		}
		text, closer = zr, zstdCloser{zr}
	}

	tr := bufio.NewReaderSize(text, sniffLen)
	head, err := tr.Peek(sniffLen)
	if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, bufio.ErrBufferFull) {
		closer.Close()
		return nil, nil, fmt.Errorf("read: %w", err)
	}
	if isBinary(head) {
		closer.Close()
		return nil, nil, fmt.Errorf("skip: %w", ErrBinary)
	}
	return tr, closer, nil
}

type zstdCloser struct{ d *zstd.Decoder }

func (z zstdCloser) Close() error { z.d.Close(); return nil }

// isBinary reports whether head looks like the start of something other
// than text: a NUL byte, or more than one byte in ten a control character
// that text does not use.
func isBinary(head []byte) bool {
	ctl := 0
	for _, c := range head {
		switch {
		case c == 0:
			return true
		case c < 0x20 && c != '\n' && c != '\r' && c != '\t' && c != '\f' && c != '\b' && c != 0x1b:
			ctl++
		}
	}
	return ctl*10 > len(head)
}
