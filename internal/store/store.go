// Package store is SecureCart's data store: customers, the product
// catalogue, orders and the change log, over either SQL engine of package
// sqldb.
//
// # Sealing
//
// Every field the data map (package classify) marks as pii or pci is sealed
// before it reaches the database, and the write path refuses to store such a
// field unless it is an envelope. A customer's PII and its order notes are
// sealed with the customer's own data key, bound to table, column and row,
// so a ciphertext moved to another row, column or customer does not open,
// and erasing the customer (ShredCustomer) destroys the key first: after
// that none of its fields open, here or in any copy made before. Customers
// are found by email through a blind index (package keys), without
// decrypting anything.
//
// # Change log
//
// Every mutation appends its change records (position, time, table, key,
// operation, the row after the change with sealed fields still sealed) in
// the same transaction as the mutation. Positions are gap-free in commit
// order: at its end, after its own statements, each write transaction
// advances a single counter row, whose lock it holds until it commits, and
// writes its records at the positions just below the counter's new value,
// so a reader that has seen position n has also seen every position below
// n, on PostgreSQL as on SQLite. This serializes the end of concurrent
// write transactions on PostgreSQL; it is the price of a log that a backup
// can follow without ever skipping a change. An insert sends its row and
// its change record in one round trip. The keystore's tables are never in
// the log.
//
// # Concurrency
//
// Updates carry the version the caller read and fail with ErrConflict if
// the row changed meanwhile, so no update is lost. Stock is decremented
// with a guarded update, so it never goes below zero.
package store

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/classify"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// Errors callers match with errors.Is.
var (
	ErrNotFound          = errors.New("store: not found")
	ErrConflict          = errors.New("store: changed by someone else; read it again")
	ErrDuplicate         = errors.New("store: already exists")
	ErrInsufficientStock = errors.New("store: insufficient stock")
	ErrInvalidTransition = errors.New("store: invalid status transition")
	ErrUnsealed          = errors.New("store: refusing to write an unsealed pii or pci field")
)

// InvalidError reports a value the store will not accept.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return "store: invalid " + e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// Sealer is what the store needs of the key hierarchy. *keys.Keystore
// implements it.
type Sealer interface {
	NewDataKey(ctx context.Context, d envelope.Domain) (keys.DataKey, error)
	SealWith(ctx context.Context, key keys.DataKey, b envelope.Binding, plaintext []byte) ([]byte, error)
	// AssignStmt gives a pooled key to owner; zero rows affected means the
	// key was taken (keys.AssignResult). An empty query assigns nothing.
	AssignStmt(key keys.DataKey, owner string) sqldb.Stmt
	Assigned(key keys.DataKey, owner string)
	SealFor(ctx context.Context, d envelope.Domain, owner string, b envelope.Binding, plaintext []byte) ([]byte, error)
	Open(ctx context.Context, sealed []byte, b envelope.Binding) ([]byte, error)
	// OpenAll opens a row's values, each for its place, with one key
	// lookup per key; it fails as a whole if one value does not open.
	OpenAll(ctx context.Context, sealed [][]byte, bs []envelope.Binding) ([][]byte, error)
	Shred(ctx context.Context, owner string) (int, error)
	BlindToken(field string, value []byte) ([]byte, error)
	BlindTokens(field string, value []byte) ([][]byte, error)
}

// Store is the data store.
type Store struct {
	db  sqldb.DB
	sec Sealer
	now func() time.Time
}

// Open migrates db and returns a store that seals with sec. When sec is a
// *keys.Keystore, the store tells it which blind-index versions are in use.
func Open(ctx context.Context, db sqldb.DB, sec Sealer) (*Store, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{db: db, sec: sec, now: time.Now}
	if ks, ok := sec.(*keys.Keystore); ok {
		ks.RegisterUsage(envelope.BlindIndex, blindIndexUsage)
	}
	return s, nil
}

// DB returns the database the store runs on.
func (s *Store) DB() sqldb.DB { return s.db }

// SetClock replaces the store's clock, for tests.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix_ followed by 48 bits of milliseconds since the Unix
// epoch and 80 random bits. The random part makes ids unguessable, so they
// cannot be enumerated; the time part makes new rows land at the end of the
// primary-key index instead of on a random page, which keeps commits small.
func newID(prefix string) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(time.Now().UnixMilli())<<16)
	if _, err := rand.Read(b[6:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// validID checks the shape of an id before it reaches a query.
func validID(prefix, id string) bool {
	if !strings.HasPrefix(id, prefix+"_") || len(id) != len(prefix)+1+26 {
		return false
	}
	_, err := idEncoding.DecodeString(id[len(prefix)+1:])
	return err == nil
}

// change is one record for the change log.
type change struct {
	table, key, op string
	after          []byte
}

// wtx is a write transaction that collects change records.
type wtx struct {
	sqldb.Tx
	changes []change
}

func (w *wtx) record(table, key, op string, row any) error {
	var after []byte
	if row != nil {
		var err error
		if after, err = encodeRow(row); err != nil {
			return err
		}
	}
	w.changes = append(w.changes, change{table, key, op, after})
	return nil
}

// write runs fn in a durable transaction and appends its change records,
// taking their positions last so the counter's lock is held only briefly.
func (s *Store) write(ctx context.Context, fn func(w *wtx) error) error {
	return s.db.Write(ctx, func(tx sqldb.Tx) error {
		w := &wtx{Tx: tx}
		if err := fn(w); err != nil {
			return err
		}
		return s.appendChanges(ctx, tx, w.changes)
	})
}

// insertWrite runs the statements of an insert and the change record c in
// one durable transaction, sent together: on PostgreSQL one round trip
// carries the row and its change record. c.after is encoded before the
// transaction starts, off SQLite's single writer. check, if not nil, judges
// what the insert's statements affected.
func (s *Store) insertWrite(ctx context.Context, stmts []sqldb.Stmt, c change, check func([]int64) error) error {
	all := append(stmts[:len(stmts):len(stmts)], s.changeStmts([]change{c})...)
	return s.db.Write(ctx, func(tx sqldb.Tx) error {
		n, err := tx.ExecBatch(ctx, all...)
		if sqldb.IsUniqueViolation(err) {
			return ErrDuplicate
		}
		if err != nil {
			return err
		}
		if check != nil {
			if err := check(n[:len(stmts)]); err != nil {
				return err
			}
		}
		return checkHead(n[len(stmts)])
	})
}

func (s *Store) appendChanges(ctx context.Context, tx sqldb.Tx, cs []change) error {
	if len(cs) == 0 {
		return nil
	}
	n, err := tx.ExecBatch(ctx, s.changeStmts(cs)...)
	if err != nil {
		return fmt.Errorf("append change: %w", err)
	}
	return checkHead(n[0])
}

// insertChange writes a change record at a position counted back from the
// counter, which the same transaction has just advanced past it.
const insertChange = "INSERT INTO change_log (pos, at, tbl, row_key, op, after)" +
	" VALUES ((SELECT pos FROM change_head WHERE id = 1) - ?, ?, ?, ?, ?, ?)"

// changeStmts returns the statements that append cs to the change log: the
// counter advances by len(cs), which locks its row until the commit, then
// each record takes its position below the counter's new value. They are
// the last statements of their transaction.
func (s *Store) changeStmts(cs []change) []sqldb.Stmt {
	at := sqldb.Micros(s.now())
	out := make([]sqldb.Stmt, 0, len(cs)+1)
	out = append(out, sqldb.Stmt{Query: "UPDATE change_head SET pos = pos + ? WHERE id = 1",
		Args: []any{int64(len(cs))}})
	for i, c := range cs {
		out = append(out, sqldb.Stmt{Query: insertChange,
			Args: []any{int64(len(cs) - 1 - i), at, c.table, c.key, c.op, c.after}})
	}
	return out
}

// checkHead checks that advancing the change counter found its row.
func checkHead(rowsAffected int64) error {
	if rowsAffected != 1 {
		return errors.New("append change: the change counter is missing")
	}
	return nil
}

// column is one column value on its way to the database.
type column struct {
	name  string
	value any
}

// checkSealed enforces the data map: a pii or pci column must hold an
// envelope. Every insert and update goes through it.
func checkSealed(table string, cols []column) error {
	for _, c := range cols {
		f, ok := classify.Lookup(table, c.name)
		if !ok {
			return fmt.Errorf("store: %s.%s is not in the data map", table, c.name)
		}
		if !f.Class.MustSeal() {
			continue
		}
		b, isBytes := c.value.([]byte)
		if c.value == nil || (isBytes && b == nil) {
			continue // absent (NULL), nothing to protect
		}
		if !isBytes {
			return fmt.Errorf("%w: %s.%s", ErrUnsealed, table, c.name)
		}
		if _, err := envelope.Parse(b); err != nil {
			return fmt.Errorf("%w: %s.%s", ErrUnsealed, table, c.name)
		}
	}
	return nil
}

func (w *wtx) insert(ctx context.Context, table string, cols []column) error {
	s, err := insertStmt(table, cols)
	if err != nil {
		return err
	}
	_, err = w.Exec(ctx, s.Query, s.Args...)
	if sqldb.IsUniqueViolation(err) {
		return ErrDuplicate
	}
	return err
}

// insertStmt builds an insert after checking the data map.
func insertStmt(table string, cols []column) (sqldb.Stmt, error) {
	if err := checkSealed(table, cols); err != nil {
		return sqldb.Stmt{}, err
	}
	names := make([]string, len(cols))
	marks := make([]string, len(cols))
	args := make([]any, len(cols))
	for i, c := range cols {
		names[i], marks[i], args[i] = c.name, "?", c.value
	}
	return sqldb.Stmt{Query: "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES (" +
		strings.Join(marks, ", ") + ")", Args: args}, nil
}

// update sets cols on the row with id and the expected version, bumping the
// version. It returns ErrConflict when the version moved and ErrNotFound
// when the row is gone.
func (w *wtx) update(ctx context.Context, table, id string, version int64, cols []column) error {
	if err := checkSealed(table, cols); err != nil {
		return err
	}
	sets := make([]string, 0, len(cols)+1)
	args := make([]any, 0, len(cols)+2)
	for _, c := range cols {
		sets = append(sets, c.name+" = ?")
		args = append(args, c.value)
	}
	sets = append(sets, "version = version + 1")
	args = append(args, id, version)
	n, err := w.Exec(ctx, "UPDATE "+table+" SET "+strings.Join(sets, ", ")+" WHERE id = ? AND version = ?", args...)
	if sqldb.IsUniqueViolation(err) {
		return ErrDuplicate
	}
	if err != nil {
		return err
	}
	if n == 1 {
		return nil
	}
	var one int64
	err = w.QueryRow(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if errors.Is(err, sqldb.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return err
	}
	return ErrConflict
}

// Page is a cursor-paginated result.
type Page[T any] struct {
	Items []T
	// Next is the cursor for the following page, empty on the last one.
	Next string
}

// MaxPageSize bounds a page.
const MaxPageSize = 1000

func pageLimit(limit int) int {
	if limit <= 0 || limit > MaxPageSize {
		return 100
	}
	return limit
}
