package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/securecart/securecart/internal/scan"
)

// Phase says which half of a request a record describes.
type Phase uint8

// Phases of a request.
const (
	// PhaseRequest is written, durably, before the action runs.
	PhaseRequest Phase = 1
	// PhaseOutcome follows the action and names its request record.
	PhaseOutcome Phase = 2
)

func (p Phase) String() string {
	switch p {
	case PhaseRequest:
		return "request"
	case PhaseOutcome:
		return "outcome"
	}
	return fmt.Sprintf("phase(%d)", uint8(p))
}

// Effect is the authorization decision.
type Effect uint8

// Effects. EffectNone is for records of actions no policy decides, such as
// a background rotation.
const (
	EffectNone  Effect = 0
	EffectAllow Effect = 1
	EffectDeny  Effect = 2
)

func (e Effect) String() string {
	switch e {
	case EffectNone:
		return "none"
	case EffectAllow:
		return "allow"
	case EffectDeny:
		return "deny"
	}
	return fmt.Sprintf("effect(%d)", uint8(e))
}

// Record is one audit record. Every field is a name, an identifier or a
// number chosen by the server; none holds a value read from or written to
// the store.
type Record struct {
	Phase Phase
	// RequestSeq is, in an outcome record, the sequence number of the
	// request record it completes; zero in a request record.
	RequestSeq uint64
	Time       time.Time
	RequestID  string
	Principal  Principal
	Source     Source
	Action     string
	Resource   Resource
	Decision   Decision
	Outcome    Outcome
	// Purpose is the purpose the caller stated for the action, a short
	// name such as "capture" or "refund" (a detokenization must state
	// one); empty when none was asked for.
	Purpose string
	// Fields names the classified fields returned in clear (names only,
	// such as "customer.email").
	Fields []string

	// legacy marks a record decoded from a version 1 encoding, which has
	// no purpose: it encodes again as version 1, byte for byte.
	legacy bool
}

// Principal is who acted.
type Principal struct {
	ID    string
	Kind  string
	Roles []string
}

// Source is where the request came from.
type Source struct {
	Address    string
	TLSVersion uint16
	// ClientCert is the subject of the verified client certificate.
	ClientCert string
	UserAgent  string
}

// Resource is what was acted on.
type Resource struct {
	Type string
	ID   string
}

// Decision is the authorization decision and the policies that made it.
type Decision struct {
	Effect   Effect
	Policies []string
}

// Outcome is how the action ended: an HTTP status (or its equivalent for a
// background action) and a short error code.
type Outcome struct {
	Status    int
	ErrorCode string
}

// Encoding limits. A record that exceeds one is refused by Encode and by
// Decode.
const (
	// Version is the first byte of every record Encode writes. Decode
	// also reads version 1, the same layout without the purpose.
	Version = 2
	// MaxRecordSize bounds an encoded record.
	MaxRecordSize = 8192
	// MaxText bounds the free-form fields: user agent and certificate
	// subject.
	MaxText = 512
	// MaxName bounds every other string.
	MaxName = 128
	// MaxList bounds the roles, policies and fields lists.
	MaxList = 64
)

// ErrInvalid is returned, wrapped, for a record that cannot be encoded or
// for bytes that are not an encoding this package produces.
var ErrInvalid = errors.New("audit: invalid record")

const fixedSize = 1 + 1 + 8 + 8 + 2 + 2 + 1

// kind of a string field, for its limits.
type textKind int

const (
	name textKind = iota // an identifier: no spaces
	text                 // printable text, spaces allowed
)

type strField struct {
	label string
	kind  textKind
	get   func(*Record) *string
	// repeats says the field takes few distinct values, which the clean
	// cache may remember; unique ones (request ids, addresses with their
	// ports, resource ids) would only churn it.
	repeats bool
}

// The string fields in their encoding order.
var strFields = []strField{
	{"request id", name, func(r *Record) *string { return &r.RequestID }, false},
	{"principal id", name, func(r *Record) *string { return &r.Principal.ID }, true},
	{"principal kind", name, func(r *Record) *string { return &r.Principal.Kind }, true},
	{"source address", name, func(r *Record) *string { return &r.Source.Address }, false},
	{"client certificate", text, func(r *Record) *string { return &r.Source.ClientCert }, true},
	{"user agent", text, func(r *Record) *string { return &r.Source.UserAgent }, true},
	{"action", name, func(r *Record) *string { return &r.Action }, true},
	{"resource type", name, func(r *Record) *string { return &r.Resource.Type }, true},
	{"resource id", name, func(r *Record) *string { return &r.Resource.ID }, false},
	{"error code", name, func(r *Record) *string { return &r.Outcome.ErrorCode }, true},
	{"purpose", name, func(r *Record) *string { return &r.Purpose }, true},
}

// legacyStrings is the number of strings in a version 1 encoding: all but
// the purpose.
const legacyStrings = 10

type listField struct {
	label string
	get   func(*Record) *[]string
}

var listFields = []listField{
	{"roles", func(r *Record) *[]string { return &r.Principal.Roles }},
	{"policies", func(r *Record) *[]string { return &r.Decision.Policies }},
	{"fields", func(r *Record) *[]string { return &r.Fields }},
}

// strs returns the string fields in strFields order, without taking r's
// address (which would move r to the heap on the append path).
func (r *Record) strs() [11]string {
	return [11]string{r.RequestID, r.Principal.ID, r.Principal.Kind, r.Source.Address,
		r.Source.ClientCert, r.Source.UserAgent, r.Action, r.Resource.Type, r.Resource.ID,
		r.Outcome.ErrorCode, r.Purpose}
}

// lists returns the list fields in listFields order.
func (r *Record) lists() [3][]string {
	return [3][]string{r.Principal.Roles, r.Decision.Policies, r.Fields}
}

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// checkString applies the limits of one string field. Besides length and
// character set, no string may contain anything package scan detects (a
// card number, an email address, a phone number, a secret).
func checkString(label string, k textKind, s string) error {
	limit := MaxName
	if k == text {
		limit = MaxText
	}
	if len(s) > limit {
		return invalid("%s longer than %d bytes", label, limit)
	}
	if !utf8.ValidString(s) {
		return invalid("%s is not UTF-8", label)
	}
	for _, c := range s {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || (k == name && c == ' ') {
			return invalid("%s has a forbidden character", label)
		}
	}
	return nil
}

// sensitive reports whether package scan finds anything in r's strings.
// They are scanned as one text, a newline after each (no string holds a
// newline, and no detector matches across one).
func (r *Record) sensitive() bool {
	return r.sensitiveOf(^uint16(0), true)
}

// sensitiveOf is sensitive over the string fields whose bit is set in
// which (bit i for strFields[i]) and, if lists, the list entries not in
// the clean cache.
func (r *Record) sensitiveOf(which uint16, lists bool) bool {
	bp := scanBufs.Get().(*[]byte)
	defer scanBufs.Put(bp)
	buf := (*bp)[:0]
	for i, s := range r.strs() {
		if which&(1<<i) != 0 && s != "" {
			buf = append(append(buf, s...), '\n')
		}
	}
	if lists {
		for _, l := range r.lists() {
			for _, s := range l {
				if which != ^uint16(0) && clean.has(name, s) {
					continue
				}
				buf = append(append(buf, s...), '\n')
			}
		}
	}
	*bp = buf
	return len(buf) > 0 && len(scan.Find(buf)) > 0
}

var scanBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func checkList(label string, l []string) error {
	if len(l) > MaxList {
		return invalid("%s has more than %d entries", label, MaxList)
	}
	for i, s := range l {
		if s == "" {
			return invalid("%s has an empty entry", label)
		}
		if err := checkString(label, name, s); err != nil {
			return err
		}
		if i > 0 && l[i-1] >= s {
			return invalid("%s not sorted and unique", label)
		}
	}
	return nil
}

// check validates a record whose lists are already in canonical order.
// scanned says its strings passed checkString and scan.Find already
// (redact).
func (r *Record) check(scanned bool) error {
	switch r.Phase {
	case PhaseRequest:
		if r.RequestSeq != 0 || r.Outcome.Status != 0 || r.Outcome.ErrorCode != "" {
			return invalid("a request record has no outcome")
		}
	case PhaseOutcome:
		if r.Outcome.Status < 100 || r.Outcome.Status > 599 {
			return invalid("outcome status %d out of range", r.Outcome.Status)
		}
	default:
		return invalid("unknown phase %d", r.Phase)
	}
	if r.Decision.Effect > EffectDeny {
		return invalid("unknown effect %d", r.Decision.Effect)
	}
	if r.Time.Before(time.Unix(0, 0)) || r.Time.After(time.Unix(0, 1<<62)) {
		return invalid("time out of range")
	}
	if r.Action == "" {
		return invalid("no action")
	}
	if r.legacy && r.Purpose != "" {
		return invalid("a version 1 record has no purpose")
	}
	for i, s := range r.strs() {
		if scanned {
			break // redact checked them
		}
		if err := checkString(strFields[i].label, strFields[i].kind, s); err != nil {
			return err
		}
	}
	for i, l := range r.lists() {
		if err := checkList(listFields[i].label, l); err != nil {
			return err
		}
	}
	if !scanned && r.sensitive() {
		return invalid("a string contains sensitive data")
	}
	return nil
}

// canonical returns a shallow copy of r with its lists sorted and
// deduplicated and its time in UTC.
func (r *Record) canonical() Record {
	c := *r
	c.Principal.Roles = sortedSet(c.Principal.Roles)
	c.Decision.Policies = sortedSet(c.Decision.Policies)
	c.Fields = sortedSet(c.Fields)
	c.Time = c.Time.UTC()
	return c
}

// sortedSet returns l sorted and without duplicates, a copy if it was
// not already.
func sortedSet(l []string) []string {
	if sortedUnique(l) {
		return l
	}
	l = slices.Clone(l)
	slices.Sort(l)
	return slices.Compact(l)
}

func sortedUnique(l []string) bool {
	for i := 1; i < len(l); i++ {
		if l[i-1] >= l[i] {
			return false
		}
	}
	return true
}

// Redact returns a copy of r whose strings have what package scan detects
// masked (a string whose mask still looks sensitive becomes "[redacted]"),
// control characters dropped, spaces in names replaced by "_", and longer
// strings cut to the limits. Log.Append redacts every record it
// is given, so the server may pass request data as it came.
func (r *Record) Redact() Record {
	c, _ := r.redact()
	return c
}

// redact is Redact; scanned reports that the result was found clean by
// package scan, so that encoding need not scan it again.
func (r *Record) redact() (c Record, scanned bool) {
	c = *r
	if c.isClean() {
		return c, true
	}
	for _, f := range strFields {
		p := f.get(&c)
		s := strings.ToValidUTF8(*p, "\uFFFD")
		// Twice: a mask may join what surrounds it into a new match.
		for range 2 {
			s = strings.Map(func(c rune) rune {
				if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) {
					return -1
				}
				if f.kind == name && c == ' ' {
					return '_'
				}
				return c
			}, scan.Redact(s))
		}
		limit := MaxName
		if f.kind == text {
			limit = MaxText
		}
		s = cut(s, limit)
		if len(scan.Find([]byte(s))) > 0 {
			s = "[redacted]"
		}
		*p = s
	}
	return c, false
}

// isClean reports whether r's strings pass checkString and package scan
// finds nothing in them or in its list entries. Strings the clean cache
// knows are skipped, and those found clean that repeat are added to it.
func (r *Record) isClean() bool {
	var unknown uint16
	for i, s := range r.strs() {
		f := strFields[i]
		if s == "" || f.repeats && clean.has(f.kind, s) {
			continue
		}
		if checkString("", f.kind, s) != nil {
			return false
		}
		unknown |= 1 << i
	}
	if r.sensitiveOf(unknown, true) {
		return false
	}

	// Remember what was scanned and repeats. Looking each up again costs
	// less than the scan it saves next time.
	for i, s := range r.strs() {
		if f := strFields[i]; unknown&(1<<i) != 0 && f.repeats && len(s) <= maxCleanLen {
			clean.add(f.kind, s)
		}
	}
	for _, l := range r.lists() {
		for _, s := range l {
			if len(s) <= maxCleanLen && !clean.has(name, s) && checkString("", name, s) == nil {
				clean.add(name, s)
			}
		}
	}
	return true
}

// cut shortens s to at most n bytes on a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Encode returns the canonical encoding of r (format in the package doc).
// Lists are sorted and deduplicated and the time is kept to the nanosecond.
func (r *Record) Encode() ([]byte, error) {
	return r.AppendEncode(make([]byte, 0, 256))
}

// AppendEncode appends the encoding of r to b.
func (r *Record) AppendEncode(b []byte) ([]byte, error) {
	return r.appendEncode(b, false)
}

// appendEncode encodes; scanned skips the scan of strings that Redact
// has just checked.
func (r *Record) appendEncode(b []byte, scanned bool) ([]byte, error) {
	c := r.canonical()
	if err := c.check(scanned); err != nil {
		return nil, err
	}
	start := len(b)
	version, nstr := byte(Version), len(strFields)
	if c.legacy {
		version, nstr = 1, legacyStrings
	}
	b = append(b, version, byte(c.Phase))
	b = binary.BigEndian.AppendUint64(b, uint64(c.Time.UnixNano()))
	b = binary.BigEndian.AppendUint64(b, c.RequestSeq)
	b = binary.BigEndian.AppendUint16(b, c.Source.TLSVersion)
	b = binary.BigEndian.AppendUint16(b, uint16(c.Outcome.Status))
	b = append(b, byte(c.Decision.Effect))
	strs := c.strs()
	for _, s := range strs[:nstr] {
		b = appendString(b, s)
	}
	for _, l := range c.lists() {
		b = binary.AppendUvarint(b, uint64(len(l)))
		for _, s := range l {
			b = appendString(b, s)
		}
	}
	if len(b)-start > MaxRecordSize {
		return nil, invalid("encoding longer than %d bytes", MaxRecordSize)
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// decoder reads an encoding and fails on the first irregularity.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint(max uint64) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
		d.err = invalid("bad length")
		return 0
	}
	if v > max {
		d.err = invalid("length %d over the limit %d", v, max)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) str(max int) string {
	n := d.uvarint(uint64(max))
	if d.err != nil {
		return ""
	}
	if uint64(len(d.b)) < n {
		d.err = invalid("truncated")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// Decode parses an encoded record. It accepts exactly the bytes Encode
// produces: anything else (another version, an unknown phase, a
// non-minimal length, unsorted lists, trailing bytes, a string over its
// limit or holding sensitive data) is ErrInvalid.
func Decode(b []byte) (*Record, error) {
	if len(b) > MaxRecordSize {
		return nil, invalid("encoding longer than %d bytes", MaxRecordSize)
	}
	if len(b) < fixedSize {
		return nil, invalid("truncated")
	}
	if b[0] != Version && b[0] != 1 {
		return nil, invalid("unknown version %d", b[0])
	}
	r := &Record{Phase: Phase(b[1]), legacy: b[0] == 1}
	nstr := len(strFields)
	if r.legacy {
		nstr = legacyStrings
	}
	ns := binary.BigEndian.Uint64(b[2:])
	if ns > 1<<62 {
		return nil, invalid("time out of range")
	}
	r.Time = time.Unix(0, int64(ns)).UTC()
	r.RequestSeq = binary.BigEndian.Uint64(b[10:])
	r.Source.TLSVersion = binary.BigEndian.Uint16(b[18:])
	r.Outcome.Status = int(binary.BigEndian.Uint16(b[20:]))
	r.Decision.Effect = Effect(b[22])

	d := &decoder{b: b[fixedSize:]}
	for _, f := range strFields[:nstr] {
		limit := MaxName
		if f.kind == text {
			limit = MaxText
		}
		*f.get(r) = d.str(limit)
	}
	for _, f := range listFields {
		n := d.uvarint(MaxList)
		var l []string
		for i := uint64(0); i < n && d.err == nil; i++ {
			l = append(l, d.str(MaxName))
		}
		*f.get(r) = l
	}
	if d.err != nil {
		return nil, d.err
	}
	if len(d.b) != 0 {
		return nil, invalid("trailing bytes")
	}
	if err := r.check(false); err != nil {
		return nil, err
	}
	return r, nil
}
