package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/securecart/securecart/internal/sqldb"
)

// Backup support
//
// A backup holds the store's rows in one engine-neutral form: the JSON of
// the change log's after-images, with sealed fields still sealed. Export
// reads every row in one consistent read transaction; a Loader writes rows
// and change records into a new, empty database of either engine; Digest
// hashes the tables so a restored copy can be compared with the original.

// BackupTables are the tables a backup carries, in load order.
var BackupTables = []string{"customers", "products", "orders", "vault_cards"}

// Row is one exported row in the binary row form (see rowcodec.go). Data
// is valid only during the call that receives it.
type Row struct {
	Table string
	Data  []byte
}

type backupRow interface {
	scan(row interface{ Scan(...any) error }) error
	columns() []column
}

type tableDef struct {
	cols   string
	newRow func() backupRow
}

var tableDefs = map[string]tableDef{
	"customers":   {customerCols, func() backupRow { return new(customerRow) }},
	"products":    {productCols, func() backupRow { return new(productRow) }},
	"orders":      {orderCols, func() backupRow { return new(orderRow) }},
	"vault_cards": {cardCols, func() backupRow { return new(cardRow) }},
}

// Export reads every row of the backup tables from one read transaction.
// It first calls begin with the change position that state corresponds to
// (every change up to it is in the rows, none after it), then fn with each
// row, table by table in storage order. Neither may write to the store.
func (s *Store) Export(ctx context.Context, begin func(pos int64) error, fn func(Row) error) (pos int64, err error) {
	err = s.db.Read(ctx, func(tx sqldb.Tx) error {
		if err := tx.QueryRow(ctx, "SELECT pos FROM change_head WHERE id = 1").Scan(&pos); err != nil {
			return err
		}
		if err := begin(pos); err != nil {
			return err
		}
		var buf []byte
		return eachRow(ctx, tx, false, func(table string, r backupRow) error {
			buf = appendRow(buf[:0], r.columns())
			return fn(Row{Table: table, Data: buf})
		})
	})
	if err != nil {
		return 0, fmt.Errorf("export store: %w", err)
	}
	return pos, nil
}

// eachRow calls fn with every row of the backup tables, in primary-key
// order when ordered is set, else in whatever order a full scan is
// cheapest.
func eachRow(ctx context.Context, tx sqldb.Tx, ordered bool, fn func(string, backupRow) error) error {
	for _, table := range BackupTables {
		def := tableDefs[table]
		q := "SELECT " + def.cols + " FROM " + table
		if ordered {
			q += " ORDER BY id"
		}
		rs, err := tx.Query(ctx, q)
		if err != nil {
			return err
		}
		for rs.Next() {
			r := def.newRow()
			if err := r.scan(rs); err != nil {
				rs.Close()
				return err
			}
			if err := fn(table, r); err != nil {
				rs.Close()
				return err
			}
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
	}
	return nil
}

// TableDigest is a table's row count and the SHA-256 of its rows in
// primary-key order, each in its engine-neutral form.
type TableDigest struct {
	Rows   int64
	SHA256 [32]byte
}

// Digest hashes the backup tables of db in one read transaction and
// returns the change position the hashes correspond to.
func Digest(ctx context.Context, db sqldb.DB) (pos int64, out map[string]TableDigest, err error) {
	err = db.Read(ctx, func(tx sqldb.Tx) error {
		out = make(map[string]TableDigest)
		if err := tx.QueryRow(ctx, "SELECT pos FROM change_head WHERE id = 1").Scan(&pos); err != nil {
			return err
		}
		hashes := make(map[string][]byte)
		counts := make(map[string]int64)
		h := sha256.New()
		cur := ""
		err := eachRow(ctx, tx, true, func(table string, r backupRow) error {
			if table != cur {
				if cur != "" {
					hashes[cur] = h.Sum(nil)
				}
				cur = table
				h.Reset()
			}
			b, err := json.Marshal(r)
			if err != nil {
				return err
			}
			h.Write(b)
			h.Write([]byte{'\n'})
			counts[table]++
			return nil
		})
		if err != nil {
			return err
		}
		if cur != "" {
			hashes[cur] = h.Sum(nil)
		}
		empty := sha256.Sum256(nil)
		for _, t := range BackupTables {
			d := TableDigest{Rows: counts[t], SHA256: empty}
			copy(d.SHA256[:], hashes[t])
			out[t] = d
		}
		return nil
	})
	if err != nil {
		return 0, nil, fmt.Errorf("digest store: %w", err)
	}
	return pos, out, nil
}

// ErrNotEmpty means a Loader's target database already holds a store.
var ErrNotEmpty = errors.New("store: the target database already holds data")

// Loader writes backed-up rows and changes into a new database. It works
// on the database alone, without keys: sealed fields are copied as they are.
type Loader struct {
	db sqldb.DB
	// deferred holds the secondary indexes dropped for a bulk load.
	deferred []string
}

// DeferIndexes drops the backup tables' secondary indexes until
// RebuildIndexes, so a bulk load writes each index once, sorted, at the
// end instead of row by row.
func (l *Loader) DeferIndexes(ctx context.Context) error {
	q := "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (?, ?, ?)"
	if l.db.Engine() == sqldb.Postgres {
		q = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema()" +
			" AND tablename IN (?, ?, ?) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
	}
	return l.db.Write(ctx, func(tx sqldb.Tx) error {
		l.deferred = l.deferred[:0]
		rs, err := tx.Query(ctx, q, BackupTables[0], BackupTables[1], BackupTables[2])
		if err != nil {
			return err
		}
		var names []string
		for rs.Next() {
			var name, def string
			if err := rs.Scan(&name, &def); err != nil {
				rs.Close()
				return err
			}
			names = append(names, name)
			l.deferred = append(l.deferred, def)
		}
		rs.Close()
		if err := rs.Err(); err != nil {
			return err
		}
		for _, n := range names {
			if _, err := tx.Exec(ctx, "DROP INDEX "+n); err != nil {
				return err
			}
		}
		return nil
	})
}

// RebuildIndexes creates the indexes DeferIndexes dropped. A unique index
// that the loaded rows violate fails here.
func (l *Loader) RebuildIndexes(ctx context.Context) error {
	if len(l.deferred) == 0 {
		return nil
	}
	err := l.db.Write(ctx, func(tx sqldb.Tx) error {
		for _, def := range l.deferred {
			if _, err := tx.Exec(ctx, def); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("rebuild indexes: %w", err)
	}
	l.deferred = nil
	return nil
}

// NewLoader migrates db's store schema and refuses a database whose store
// tables hold any row or change.
func NewLoader(ctx context.Context, db sqldb.DB) (*Loader, error) {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return nil, fmt.Errorf("load store: %w", err)
	}
	err := db.Read(ctx, func(tx sqldb.Tx) error {
		var head int64
		if err := tx.QueryRow(ctx, "SELECT pos FROM change_head WHERE id = 1").Scan(&head); err != nil {
			return err
		}
		if head != 0 {
			return ErrNotEmpty
		}
		for _, t := range BackupTables {
			var n int64
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
				return err
			}
			if n != 0 {
				return ErrNotEmpty
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load store: %w", err)
	}
	return &Loader{db: db}, nil
}

// insertBatch is how many rows one INSERT statement carries.
const insertBatch = 64

// Batch is rows decoded and checked for a Loader, ready to insert. Build
// it with Add on any goroutine; it does no database work.
type Batch struct {
	tables map[string][][]column
	n      int
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{tables: make(map[string][][]column)} }

// Len returns how many rows the batch holds.
func (b *Batch) Len() int { return b.n }

// Add decodes one row in the binary row form, as Export produced it, and
// adds it. It refuses an unknown table, a value of the wrong type, a row
// without an id and a pii or pci column that is not an envelope. The batch
// keeps data.
func (b *Batch) Add(table string, data []byte) error {
	cols, err := decodeBinaryRow(table, data)
	if err != nil {
		return fmt.Errorf("decode %s row: %w", table, err)
	}
	b.tables[table] = append(b.tables[table], cols)
	b.n++
	return nil
}

// Load inserts prepared batches, all rows new, in one transaction.
func (l *Loader) Load(ctx context.Context, batches ...*Batch) error {
	return l.db.Write(ctx, func(tx sqldb.Tx) error {
		for _, b := range batches {
			for _, table := range BackupTables {
				all := b.tables[table]
				for len(all) > 0 {
					n := min(len(all), insertBatch)
					if _, err := tx.Exec(ctx, multiInsert(table, all[:n]), flatArgs(all[:n])...); err != nil {
						return fmt.Errorf("load %s: %w", table, err)
					}
					all = all[n:]
				}
			}
		}
		return nil
	})
}

// Apply replays change records in order, in one transaction: an insert
// puts its row in place of any row with its id, an update replaces the
// whole row, a delete removes it.
func (l *Loader) Apply(ctx context.Context, cs []Change) error {
	type op struct {
		c    Change
		cols []column
	}
	ops := make([]op, len(cs))
	for i, c := range cs {
		ops[i].c = c
		if c.Op == "delete" {
			continue
		}
		cols, err := decodeRow(c.Table, c.After)
		if err != nil {
			return fmt.Errorf("change %d: %w", c.Pos, err)
		}
		ops[i].cols = cols
	}
	return l.db.Write(ctx, func(tx sqldb.Tx) error {
		for _, o := range ops {
			if err := applyOne(ctx, tx, o.c, o.cols); err != nil {
				return fmt.Errorf("apply change %d: %w", o.c.Pos, err)
			}
		}
		return nil
	})
}

func applyOne(ctx context.Context, tx sqldb.Tx, c Change, cols []column) error {
	switch c.Op {
	case "insert":
		// The logged row is the truth at this position: it replaces a row
		// of the same id that a write outside the change log left behind,
		// such as a row deleted by hand and then put back from a backup.
		if id, _ := cols[0].value.(string); id != c.Key {
			return errors.New("row id differs from the change's key")
		}
		if _, err := tx.Exec(ctx, "DELETE FROM "+c.Table+" WHERE id = ?", c.Key); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, multiInsert(c.Table, [][]column{cols}), flatArgs([][]column{cols})...)
		return err
	case "update":
		if id, _ := cols[0].value.(string); id != c.Key {
			return errors.New("row id differs from the change's key")
		}
		sets := make([]string, 0, len(cols)-1)
		args := make([]any, 0, len(cols))
		for _, col := range cols[1:] {
			sets = append(sets, col.name+" = ?")
			args = append(args, col.value)
		}
		n, err := tx.Exec(ctx, "UPDATE "+c.Table+" SET "+strings.Join(sets, ", ")+" WHERE id = ?",
			append(args, c.Key)...)
		if err == nil && n != 1 {
			err = errors.New("updated row is missing")
		}
		return err
	case "delete":
		if _, ok := tableDefs[c.Table]; !ok {
			return fmt.Errorf("unknown table %q", c.Table)
		}
		n, err := tx.Exec(ctx, "DELETE FROM "+c.Table+" WHERE id = ?", c.Key)
		if err == nil && n != 1 {
			err = errors.New("deleted row is missing")
		}
		return err
	}
	return fmt.Errorf("unknown operation %q", c.Op)
}

// Finish sets the restored database's change position, so a deployment
// started on it continues the sequence after pos.
func (l *Loader) Finish(ctx context.Context, pos int64) error {
	return l.db.Write(ctx, func(tx sqldb.Tx) error {
		_, err := tx.Exec(ctx, "UPDATE change_head SET pos = ?, pruned = ? WHERE id = 1", pos, pos)
		return err
	})
}

// decodeRow parses a row's engine-neutral form strictly: every column
// present, nothing unknown, sealed columns still envelopes.
func decodeRow(table string, data []byte) ([]column, error) {
	def, ok := tableDefs[table]
	if !ok {
		return nil, fmt.Errorf("unknown table %q", table)
	}
	r := def.newRow()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(r); err != nil {
		return nil, fmt.Errorf("decode %s row: %w", table, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("decode %s row: trailing data", table)
	}
	return checkRow(table, r)
}

func checkRow(table string, r backupRow) ([]column, error) {
	cols := r.columns()
	if id, _ := cols[0].value.(string); id == "" {
		return nil, fmt.Errorf("decode %s row: no id", table)
	}
	if err := checkSealed(table, cols); err != nil {
		return nil, err
	}
	return cols, nil
}

func multiInsert(table string, rows [][]column) string {
	var b strings.Builder
	b.WriteString("INSERT INTO " + table + " (" + tableDefs[table].cols + ") VALUES ")
	marks := "(" + strings.Repeat("?, ", len(rows[0])-1) + "?)"
	for i := range rows {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(marks)
	}
	return b.String()
}

func flatArgs(rows [][]column) []any {
	args := make([]any, 0, len(rows)*len(rows[0]))
	for _, r := range rows {
		for _, c := range r {
			args = append(args, c.value)
		}
	}
	return args
}

// Count returns the row count of each backup table in db.
func Count(ctx context.Context, db sqldb.DB) (map[string]int64, error) {
	out := make(map[string]int64)
	err := db.Read(ctx, func(tx sqldb.Tx) error {
		for _, t := range BackupTables {
			var n int64
			if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
				return err
			}
			out[t] = n
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count rows: %w", err)
	}
	return out, nil
}
