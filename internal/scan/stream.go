package scan

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
)

const (
	// DefaultWindow is how much text a scan reads at a time.
	DefaultWindow = 4 << 20
	// windowOverlap is read twice, at the end of a window and the start
	// of the next, so that a value across the boundary is found whole:
	// it is longer than the longest match the detectors report but for
	// unbounded tokens (a bearer token or JWT over 64 KiB is cut).
	windowOverlap = maxPEMBlock + 1024
	// leftContext is kept before a window's new text so that the
	// detectors see the word before a value and the context words.
	leftContext = 1024
	minWindow   = 4 * leftContext
)

// Options configure a Scanner.
type Options struct {
	// Detectors are the built-in detectors to run; zero means all.
	Detectors Set
	// MinConfidence drops findings below it.
	MinConfidence float64
	Allow         *AllowList
	Custom        []*Custom
	// Window is how many bytes are read at a time; zero means
	// DefaultWindow. Memory stays about Window+64 KiB, and the matches of
	// one window, whatever the input.
	Window int
}

// Scanner finds sensitive data in objects, with allow-lists and custom
// detectors. It is safe for concurrent use.
type Scanner struct {
	opts Options
	// bufs holds window buffers between scans: a scan of many small
	// files would otherwise allocate and clear a whole window for each.
	bufs sync.Pool
}

// NewScanner checks opts and returns a Scanner.
func NewScanner(opts Options) (*Scanner, error) {
	if opts.Detectors == 0 {
		opts.Detectors = AllSet
	}
	switch {
	case opts.Window <= 0:
		opts.Window = DefaultWindow
	case opts.Window < minWindow:
		opts.Window = minWindow
	}
	opts.Custom = slices.Clone(opts.Custom)
	for _, c := range opts.Custom {
		if err := c.compile(); err != nil {
			return nil, err
		}
	}
	return &Scanner{opts: opts}, nil
}

// Allow returns the scanner's allow-list, which may be nil.
func (s *Scanner) Allow() *AllowList { return s.opts.Allow }

// Custom returns the scanner's custom detectors.
func (s *Scanner) Custom() []*Custom { return s.opts.Custom }

// matches runs the built-in and custom detectors over text.
func (s *Scanner) matches(text []byte) []Match {
	ms := find(text, s.opts.Detectors)
	if len(s.opts.Custom) == 0 {
		return ms
	}
	for _, c := range s.opts.Custom {
		ms = append(ms, c.find(text)...)
	}
	return merge(ms)
}

// keep reports whether m, found in text, is worth reporting.
func (s *Scanner) keep(text []byte, m Match) bool {
	if m.Confidence < s.opts.MinConfidence {
		return false
	}
	return !s.opts.Allow.allows(m.Detector, string(text[m.Start:m.End]))
}

// Text scans one value held in memory, such as a field of the store.
func (s *Scanner) Text(object string, text []byte) []Finding {
	var out []Finding
	var pos position
	head := parseHeader(text)
	for _, m := range s.matches(text) {
		pos.advance(text, 0, int64(m.Start))
		head.rerate(text, &m, int(pos.lineStart))
		if !s.keep(text, m) {
			continue
		}
		out = append(out, s.finding(object, text, m, 0, pos))
	}
	return out
}

// Reader scans r window by window and calls emit with each finding, in
// the order of the text. It returns the number of bytes read.
func (s *Scanner) Reader(ctx context.Context, object string, r io.Reader, emit func(Finding)) (int64, error) {
	bp, _ := s.bufs.Get().(*[]byte)
	if bp == nil {
		b := make([]byte, s.opts.Window+windowOverlap)
		bp = &b
	}
	defer s.bufs.Put(bp)
	buf := *bp
	var (
		base     int64 // offset of buf[0] in the text
		n        int   // bytes in buf
		fresh    int   // buf[:fresh] was scanned before: context only
		reported int64 // end of the last finding reported
		pos      position
		head     *header // the first line, when it names columns
	)
	for {
		if err := ctx.Err(); err != nil {
			return base + int64(n), err
		}
		k, err := io.ReadFull(r, buf[n:])
		n += k
		eof := errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
		if err != nil && !eof {
			return base + int64(n), fmt.Errorf("read %s: %w", object, err)
		}

		limit := n - windowOverlap // later starts wait for the next window
		if eof {
			limit = n
		}
		text := buf[:n]
		if base == 0 {
			head = parseHeader(text)
		}
		for _, m := range s.matches(text) {
			at := base + int64(m.Start)
			if m.Start < fresh || m.Start >= limit || at < reported {
				continue
			}
			pos.advance(text, base, at)
			head.rerate(text, &m, int(pos.lineStart-base))
			if !s.keep(text, m) {
				continue
			}
			emit(s.finding(object, text, m, base, pos))
			reported = base + int64(m.End)
		}
		if eof {
			return base + int64(n), nil
		}

		from := max(0, limit-leftContext)
		pos.advance(text, base, base+int64(from))
		copy(buf, buf[from:n])
		base, n, fresh = base+int64(from), n-from, limit-from
	}
}

// finding builds the Finding for m, found in text, which starts at offset
// base of the object; pos is at m.
func (s *Scanner) finding(object string, text []byte, m Match, base int64, pos position) Finding {
	v := string(text[m.Start:m.End])
	at := base + int64(m.Start)
	return Finding{
		Detector:   m.Detector,
		Severity:   m.Severity,
		Confidence: m.Confidence,
		Object:     object,
		Line:       pos.line + 1,
		Column:     int(at-pos.lineStart) + 1,
		Offset:     at,
		Length:     m.End - m.Start,
		Sample:     Sample(m.Detector, v),
		Brand:      m.Brand,
	}
}

// position counts lines up to an offset of the text, moving forward only.
type position struct {
	at        int64 // offset counted to
	line      int   // line breaks before at
	lineStart int64 // offset of the line that holds at
}

// advance moves p to offset to; text holds the object from offset base
// and covers [p.at, to).
func (p *position) advance(text []byte, base, to int64) {
	if to <= p.at {
		return
	}
	seg := text[p.at-base : to-base]
	if nl := bytes.Count(seg, []byte{'\n'}); nl > 0 {
		p.line += nl
		p.lineStart = p.at + int64(bytes.LastIndexByte(seg, '\n')) + 1
	}
	p.at = to
}
