package versions

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/sqldb"
)

// ErrNotFound is returned for a version that does not exist.
var ErrNotFound = errors.New("versions: no such policy set version")

// ErrConflict is returned when another node stored a version at the same
// moment; applying again is safe.
var ErrConflict = errors.New("versions: another version was stored at the same time")

// MaxNote bounds the note stored with a version.
const MaxNote = 500

// InvalidError is a policy set that does not parse or validate.
type InvalidError struct{ Err error }

func (e *InvalidError) Error() string { return "invalid policy set: " + e.Err.Error() }
func (e *InvalidError) Unwrap() error { return e.Err }

// RefusedError is a valid policy set that breaks a blocking guardrail.
type RefusedError struct{ Findings []analyze.Finding }

func (e *RefusedError) Error() string {
	msg := "policy set refused:"
	for _, f := range e.Findings {
		msg += " " + f.Rule + " (" + f.Detail + ")"
	}
	return msg
}

// Version is one stored policy set. Number 0 is the built-in default set,
// active until the first apply; it is never stored.
type Version struct {
	Number    int64     `json:"version"`
	Digest    string    `json:"sha256"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	CreatedBy string    `json:"created_by"`
	Note      string    `json:"note,omitempty"`
	// RollbackOf is the version a rollback copied; nil for an apply.
	RollbackOf *int64 `json:"rollback_of,omitempty"`
	Source     []byte `json:"-"`
}

// Store keeps every version of the policy set and the engine of the
// active one, the highest version.
type Store struct {
	db   sqldb.DB
	now  func() time.Time
	live Live
	mu   sync.Mutex // serializes loads into live
}

// Open migrates the table and loads the active version.
func Open(ctx context.Context, db sqldb.DB) (*Store, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return nil, err
	}
	s := &Store{db: db, now: time.Now}
	if err := s.Refresh(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Live returns the holder of the active engine: a policy.Decider that
// follows every apply, rollback and Refresh.
func (s *Store) Live() *Live { return &s.live }

// Apply validates src, analyzes it, and stores it as a new active version
// unless it breaks a blocking guardrail. It returns the version and the
// findings that did not block it.
func (s *Store) Apply(ctx context.Context, src []byte, by, note string) (*Version, []analyze.Finding, error) {
	set, report, err := Check(src)
	if err != nil {
		return nil, nil, err
	}
	v, err := s.insert(ctx, set, by, note, -1)
	return v, report.Findings, err
}

// Check validates src and runs the guardrails, as Apply does before it
// stores anything.
func Check(src []byte) (*policy.Set, *analyze.Report, error) {
	set, err := policy.Load(src)
	if err != nil {
		return nil, nil, &InvalidError{Err: err}
	}
	report, err := analyze.Analyze(set)
	if err != nil {
		return nil, nil, &InvalidError{Err: err}
	}
	if b := report.Blocking(); len(b) > 0 {
		return nil, nil, &RefusedError{Findings: b}
	}
	return set, report, nil
}

// Rollback makes the set of version n active again by storing it as a new
// version: history is never rewritten. Version 0 is the default set. The
// old set passes the same checks as an apply.
func (s *Store) Rollback(ctx context.Context, n int64, by string) (*Version, error) {
	old, err := s.Get(ctx, n)
	if err != nil {
		return nil, err
	}
	set, _, err := Check(old.Source)
	if err != nil {
		return nil, err
	}
	return s.insert(ctx, set, by, fmt.Sprintf("rollback to version %d", n), n)
}

// insert stores set as the next version; of is the version a rollback
// copies, -1 for an apply.
func (s *Store) insert(ctx context.Context, set *policy.Set, by, note string, of int64) (*Version, error) {
	if len(note) > MaxNote {
		note = note[:MaxNote]
	}
	sum := sha256.Sum256(set.Source)
	v := &Version{Digest: hex.EncodeToString(sum[:]), CreatedAt: s.now().UTC().Truncate(time.Microsecond),
		CreatedBy: by, Note: note, Source: set.Source}
	if of >= 0 {
		v.RollbackOf = &of
	}
	err := s.db.Write(ctx, func(tx sqldb.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) + 1 FROM policy_versions").
			Scan(&v.Number); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, "INSERT INTO policy_versions (version, source, digest, created_at, "+
			"created_by, note, rollback_of) VALUES (?, ?, ?, ?, ?, ?, ?)",
			v.Number, v.Source, v.Digest, sqldb.Micros(v.CreatedAt), v.CreatedBy, v.Note, of)
		return err
	})
	if sqldb.IsUniqueViolation(err) {
		return nil, ErrConflict
	}
	if err != nil {
		return nil, fmt.Errorf("store policy version: %w", err)
	}
	s.install(v.Number, set)
	return v, nil
}

// install makes set the live one unless a later version already is.
func (s *Store) install(n int64, set *policy.Set) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur := s.live.p.Load(); cur == nil || cur.version < n {
		s.live.p.Store(&active{version: n, set: set})
	}
}

// Refresh loads the highest stored version if it is not the live one: the
// way a node sees another node's apply.
func (s *Store) Refresh(ctx context.Context) error {
	var n int64
	err := s.db.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM policy_versions").Scan(&n)
	if err != nil {
		return fmt.Errorf("read policy versions: %w", err)
	}
	if cur := s.live.p.Load(); cur != nil && cur.version == n {
		return nil
	}
	v, err := s.Get(ctx, n)
	if err != nil {
		return err
	}
	set, err := policy.Load(v.Source)
	if err != nil {
		return fmt.Errorf("load policy version %d: %w", n, err)
	}
	s.install(n, set)
	return nil
}

// Poll calls Refresh every interval until ctx ends. A failed refresh
// keeps the live set and is retried at the next tick.
func (s *Store) Poll(ctx context.Context, every time.Duration, onError func(error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.Refresh(ctx); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

// Get returns version n with its source.
func (s *Store) Get(ctx context.Context, n int64) (*Version, error) {
	if n == 0 {
		return defaultVersion(), nil
	}
	v := &Version{Number: n}
	var at, of int64
	err := s.db.QueryRow(ctx, "SELECT source, digest, created_at, created_by, note, rollback_of "+
		"FROM policy_versions WHERE version = ?", n).
		Scan(&v.Source, &v.Digest, &at, &v.CreatedBy, &v.Note, &of)
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read policy version %d: %w", n, err)
	}
	v.CreatedAt, v.RollbackOf = sqldb.FromMicros(at), rollbackOf(of)
	return v, nil
}

// List returns every version, newest first, without sources; the last is
// the built-in default, version 0.
func (s *Store) List(ctx context.Context) ([]Version, error) {
	var out []Version
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, "SELECT version, digest, created_at, created_by, note, rollback_of "+
			"FROM policy_versions ORDER BY version DESC")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var v Version
			var at, of int64
			if err := rows.Scan(&v.Number, &v.Digest, &at, &v.CreatedBy, &v.Note, &of); err != nil {
				return err
			}
			v.CreatedAt, v.RollbackOf = sqldb.FromMicros(at), rollbackOf(of)
			out = append(out, v)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("list policy versions: %w", err)
	}
	d := defaultVersion()
	d.Source = nil
	return append(out, *d), nil
}

func rollbackOf(n int64) *int64 {
	if n < 0 {
		return nil
	}
	return &n
}

func defaultVersion() *Version {
	src := policy.DefaultPolicies()
	sum := sha256.Sum256(src)
	return &Version{Digest: hex.EncodeToString(sum[:]), CreatedBy: "built in",
		Note: "the default policy set", Source: src}
}

// Live holds the engine of the active policy set and decides with it. Its
// zero value denies everything until a set is installed.
type Live struct {
	p atomic.Pointer[active]
}

type active struct {
	version int64
	set     *policy.Set

	analysis struct {
		once   sync.Once
		report *analyze.Report
		err    error
	}
}

// Decide decides r with the active set.
func (l *Live) Decide(r policy.Request) policy.Decision {
	a := l.p.Load()
	if a == nil {
		return policy.Decision{Errors: []string{"refuse request: no policy set loaded"}}
	}
	return a.set.Engine.Decide(r)
}

// Analysis returns the active version number and its analysis, computed
// once per version and shared by every caller.
func (l *Live) Analysis() (int64, *analyze.Report, error) {
	a := l.p.Load()
	if a == nil {
		return 0, nil, errors.New("analyze: no policy set loaded")
	}
	an := &a.analysis
	an.once.Do(func() { an.report, an.err = analyze.Analyze(a.set) })
	return a.version, an.report, an.err
}

// Active returns the active version number and its set.
func (l *Live) Active() (int64, *policy.Set) {
	a := l.p.Load()
	if a == nil {
		return 0, nil
	}
	return a.version, a.set
}
