package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// Entry is a record with its sequence number.
type Entry struct {
	Seq    uint64
	Record *Record
}

// Reader reads the records of a log directory. It may be used while a Log
// appends to the directory.
type Reader struct {
	dir   string
	bound func() uint64
}

// NewReader returns a reader of the log in dir. It reads every complete
// record, including one whose fsync has not yet returned.
func NewReader(dir string) *Reader {
	return &Reader{dir: dir, bound: func() uint64 { return math.MaxUint64 }}
}

// Reader returns a reader that sees only records Append acknowledged.
func (l *Log) Reader() *Reader {
	return &Reader{dir: l.dir, bound: func() uint64 { s, _ := l.Head(); return s }}
}

// Scan yields the records from sequence number from onward, in order, and
// ends at the last complete record. A record that does not decode ends it
// with an error wrapping ErrCorrupt.
func (r *Reader) Scan(ctx context.Context, from uint64) iter.Seq2[Entry, error] {
	return func(yield func(Entry, error) bool) {
		limit := r.bound()
		segs, err := listSegments(r.dir)
		if err != nil {
			yield(Entry{}, err)
			return
		}
		start := 0
		for i, s := range segs {
			if s.first <= from {
				start = i
			}
		}
		for i := start; i < len(segs); i++ {
			if !r.scanSegment(ctx, segs[i], from, limit, i == len(segs)-1, yield) {
				return
			}
		}
	}
}

// scanSegment yields the records of one segment; false means stop.
func (r *Reader) scanSegment(ctx context.Context, s segment, from, limit uint64, last bool,
	yield func(Entry, error) bool) bool {
	f, _, fr, err := openSegment(s.path)
	if err != nil {
		if last && errors.Is(err, errHeader) {
			return false // a segment being created
		}
		if !last && errors.Is(err, os.ErrNotExist) {
			return true // archived since the listing: read on from the next
		}
		yield(Entry{}, fmt.Errorf("%w: %w", ErrCorrupt, err))
		return false
	}
	defer f.Close()
	for n := 0; ; n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			yield(Entry{}, ctx.Err())
			return false
		}
		seq, rec, err := fr.next()
		switch {
		case err == io.EOF:
			return true
		case errors.Is(err, errTorn) && last:
			return false
		case err != nil:
			yield(Entry{}, fmt.Errorf("%w: segment %s: %w", ErrCorrupt, filepath.Base(s.path), err))
			return false
		}
		if seq >= limit {
			return false
		}
		if seq < from {
			continue
		}
		rc, err := Decode(rec)
		if err != nil {
			yield(Entry{}, fmt.Errorf("%w: record %d: %w", ErrCorrupt, seq, err))
			return false
		}
		if !yield(Entry{Seq: seq, Record: rc}, nil) {
			return false
		}
	}
}

// Outcome classes for Filter.
const (
	OutcomeAny     = ""
	OutcomeSuccess = "success" // an outcome record with a status below 400
	OutcomeFailure = "failure" // an outcome record with a status of 400 or more
	OutcomeDenied  = "denied"  // any record whose decision is deny
)

// Filter selects records. Zero fields match everything.
type Filter struct {
	PrincipalID  string
	Action       string
	ResourceType string
	ResourceID   string
	Purpose      string
	Outcome      string
	// Since and Until bound the record time: Since <= time < Until.
	Since, Until time.Time
}

// Match reports whether r passes f.
func (f *Filter) Match(r *Record) bool {
	switch {
	case f.PrincipalID != "" && r.Principal.ID != f.PrincipalID,
		f.Action != "" && r.Action != f.Action,
		f.ResourceType != "" && r.Resource.Type != f.ResourceType,
		f.ResourceID != "" && r.Resource.ID != f.ResourceID,
		f.Purpose != "" && r.Purpose != f.Purpose,
		!f.Since.IsZero() && r.Time.Before(f.Since),
		!f.Until.IsZero() && !r.Time.Before(f.Until):
		return false
	}
	switch f.Outcome {
	case OutcomeSuccess:
		return r.Phase == PhaseOutcome && r.Outcome.Status < 400
	case OutcomeFailure:
		return r.Phase == PhaseOutcome && r.Outcome.Status >= 400
	case OutcomeDenied:
		return r.Decision.Effect == EffectDeny
	}
	return true
}

// Page is one page of a query.
type Page struct {
	Entries []Entry
	// Next is the cursor of the following page, empty at the end of the
	// log.
	Next string
}

// MaxScan bounds the records one Query reads. A page may come back short,
// with a Next cursor, when the filter matched little.
const MaxScan = 100_000

// ErrCursor is returned for a cursor Query did not produce.
var ErrCursor = errors.New("audit: bad cursor")

// Query returns up to limit records (oldest first) that match f, starting
// at cursor ("" for the start of the log).
func (r *Reader) Query(ctx context.Context, f Filter, cursor string, limit int) (Page, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	from, err := parseCursor(cursor)
	if err != nil {
		return Page{}, err
	}
	if cursor == "" && !f.Since.IsZero() {
		if from, err = r.seekTime(f.Since); err != nil {
			return Page{}, err
		}
	}
	var p Page
	scanned := 0
	last := from
	for e, err := range r.Scan(ctx, from) {
		if err != nil {
			return Page{}, err
		}
		last = e.Seq + 1
		scanned++
		if !f.Until.IsZero() && e.Record.Time.After(f.Until.Add(time.Minute)) {
			return p, nil
		}
		if f.Match(e.Record) {
			p.Entries = append(p.Entries, e)
		}
		if len(p.Entries) == limit || scanned == MaxScan {
			p.Next = "c" + strconv.FormatUint(last, 10)
			return p, nil
		}
	}
	return p, nil
}

func parseCursor(c string) (uint64, error) {
	if c == "" {
		return 0, nil
	}
	if len(c) < 2 || c[0] != 'c' || (c[1] == '0' && len(c) > 2) {
		return 0, ErrCursor
	}
	v, err := strconv.ParseUint(c[1:], 10, 64)
	if err != nil {
		return 0, ErrCursor
	}
	return v, nil
}

// seekTime returns the first record of the last segment whose first record
// is older than t, so that a time-bounded query skips older segments.
func (r *Reader) seekTime(t time.Time) (uint64, error) {
	segs, err := listSegments(r.dir)
	if err != nil {
		return 0, err
	}
	var from uint64
	if len(segs) > 0 {
		from = segs[0].first
	}
	for _, s := range segs {
		tm, ok := firstTime(s.path)
		if !ok || !tm.Before(t) {
			break
		}
		from = s.first
	}
	return from, nil
}

func firstTime(path string) (time.Time, bool) {
	f, _, fr, err := openSegment(path)
	if err != nil {
		return time.Time{}, false
	}
	defer f.Close()
	_, rec, err := fr.next()
	if err != nil {
		return time.Time{}, false
	}
	rc, err := Decode(rec)
	if err != nil {
		return time.Time{}, false
	}
	return rc.Time, true
}
