package keys

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync"

	"github.com/securecart/securecart/internal/sqldb"
)

// Keystore snapshots
//
// A snapshot is the keystore's own backup, kept apart from the data: JSON
// lines, the first a header, then one line per meta value, KEK version and
// data key, with every key in its wrapped form only. A destroyed key has no
// material in the keystore, so it has none in any snapshot taken after it
// was destroyed: crypto-shredding reaches the keystore's backups at their
// next snapshot.

const (
	snapshotFormat  = "securecart-keystore-snapshot-v1"
	maxSnapshotLine = 64 << 10
)

type snapHeader struct {
	Format string `json:"format"`
	RootID string `json:"root_id"`
}

type snapLine struct {
	Type string `json:"t"`
	// meta
	Name  string `json:"name,omitempty"`
	Value []byte `json:"value,omitempty"`
	// kek and data key
	Domain   int64  `json:"domain,omitempty"`
	Version  int64  `json:"version,omitempty"`
	State    int64  `json:"state,omitempty"`
	Created  int64  `json:"created,omitempty"`
	StateAt  int64  `json:"state_at,omitempty"`
	RootID   string `json:"root_id,omitempty"`
	Wrapped  []byte `json:"wrapped,omitempty"`
	ID       int64  `json:"id,omitempty"`
	Owner    string `json:"owner,omitempty"`
	Reserved int64  `json:"reserved,omitempty"`
}

// Snapshot writes the keystore's current state to w from one consistent
// read.
func (k *Keystore) Snapshot(ctx context.Context, w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		if err := enc.Encode(snapHeader{Format: snapshotFormat, RootID: k.rootID()}); err != nil {
			return err
		}
		queries := []struct {
			typ, q string
		}{
			{"meta", "SELECT name, value FROM ks_meta ORDER BY name"},
			{"kek", "SELECT domain, version, state, created_at, state_at, root_id, wrapped FROM ks_keks ORDER BY domain, version"},
			{"dk", "SELECT id, domain, COALESCE(owner, ''), kek_version, wrapped, state, seals_reserved, created_at FROM ks_data_keys ORDER BY id"},
		}
		for _, q := range queries {
			rs, err := tx.Query(ctx, q.q)
			if err != nil {
				return err
			}
			for rs.Next() {
				l := snapLine{Type: q.typ}
				switch q.typ {
				case "meta":
					err = rs.Scan(&l.Name, &l.Value)
				case "kek":
					err = rs.Scan(&l.Domain, &l.Version, &l.State, &l.Created, &l.StateAt, &l.RootID, &l.Wrapped)
				default:
					err = rs.Scan(&l.ID, &l.Domain, &l.Owner, &l.Version, &l.Wrapped, &l.State, &l.Reserved, &l.Created)
				}
				if err == nil {
					err = enc.Encode(l)
				}
				if err != nil {
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
	})
	if err != nil {
		return fmt.Errorf("keystore snapshot: %w", err)
	}
	return bw.Flush()
}

// RestoreSnapshot loads a snapshot into db, whose keystore tables must be
// empty. The root key that wrapped the snapshot's KEKs is needed to open it
// afterwards. Lines are decoded on several goroutines, a chunk at a time,
// and data keys are inserted many to a statement.
func RestoreSnapshot(ctx context.Context, db sqldb.DB, r io.Reader) error {
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return err
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 4096), maxSnapshotLine)
	if !sc.Scan() {
		return errors.New("restore keystore: empty snapshot")
	}
	var h snapHeader
	if err := strictDecode(sc.Bytes(), &h); err != nil || h.Format != snapshotFormat {
		return errors.New("restore keystore: not a keystore snapshot")
	}
	var lines []snapLine
	for {
		raw := readChunk(sc, restoreChunk)
		if len(raw) == 0 {
			break
		}
		decoded, err := decodeLines(raw, len(lines)+2)
		if err != nil {
			return err
		}
		lines = append(lines, decoded...)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("restore keystore: %w", err)
	}
	return db.Write(ctx, func(tx sqldb.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_keks").Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return errors.New("restore keystore: the target keystore is not empty")
		}
		// The data keys' indexes are built once at the end, sorted, rather
		// than row by row.
		defs, err := dropDataKeyIndexes(ctx, tx, db.Engine())
		if err != nil {
			return fmt.Errorf("restore keystore: %w", err)
		}
		var dks []snapLine
		for i, l := range lines {
			var err error
			switch l.Type {
			case "meta":
				err = putMeta(ctx, tx, l.Name, l.Value)
			case "kek":
				_, err = tx.Exec(ctx, "INSERT INTO ks_keks (domain, version, state, created_at, state_at,"+
					" root_id, wrapped) VALUES (?, ?, ?, ?, ?, ?, ?)",
					l.Domain, l.Version, l.State, l.Created, l.StateAt, l.RootID, l.Wrapped)
			case "dk":
				if dks = append(dks, l); len(dks) == dataKeysPerInsert {
					err = insertDataKeyLines(ctx, tx, dks)
					dks = dks[:0]
				}
			default:
				err = fmt.Errorf("unknown line type %q", l.Type)
			}
			if err != nil {
				return fmt.Errorf("restore keystore: line %d: %w", i+2, err)
			}
		}
		if err := insertDataKeyLines(ctx, tx, dks); err != nil {
			return fmt.Errorf("restore keystore: %w", err)
		}
		for _, def := range defs {
			if _, err := tx.Exec(ctx, def); err != nil {
				return fmt.Errorf("restore keystore: rebuild index: %w", err)
			}
		}
		return nil
	})
}

// dropDataKeyIndexes drops the secondary indexes of ks_data_keys and
// returns the statements that create them again.
func dropDataKeyIndexes(ctx context.Context, tx sqldb.Tx, engine string) ([]string, error) {
	q := "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ?"
	if engine == sqldb.Postgres {
		q = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ?" +
			" AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = indexname)"
	}
	rs, err := tx.Query(ctx, q, "ks_data_keys")
	if err != nil {
		return nil, err
	}
	var names, defs []string
	for rs.Next() {
		var name, def string
		if err := rs.Scan(&name, &def); err != nil {
			rs.Close()
			return nil, err
		}
		names, defs = append(names, name), append(defs, def)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+n); err != nil {
			return nil, err
		}
	}
	return defs, nil
}

// restoreChunk is how many lines RestoreSnapshot reads before decoding
// them; dataKeysPerInsert how many data keys one INSERT carries.
const (
	restoreChunk      = 1 << 15
	dataKeysPerInsert = 100
)

// readChunk copies up to n lines out of sc.
func readChunk(sc *bufio.Scanner, n int) [][]byte {
	var out [][]byte
	for len(out) < n && sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	return out
}

// decodeLines decodes raw lines on up to GOMAXPROCS goroutines; first is
// the line number of raw[0], for errors.
func decodeLines(raw [][]byte, first int) ([]snapLine, error) {
	out := make([]snapLine, len(raw))
	workers := max(1, min(runtime.GOMAXPROCS(0), len(raw)/1024))
	errs := make([]error, workers)
	var wg sync.WaitGroup
	per := (len(raw) + workers - 1) / workers
	for w := range workers {
		lo, hi := w*per, min(len(raw), (w+1)*per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				if err := strictDecode(raw[i], &out[i]); err != nil {
					errs[w] = fmt.Errorf("restore keystore: line %d: %w", first+i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return out, errors.Join(errs...)
}

// insertDataKeyLines inserts data keys with one statement.
func insertDataKeyLines(ctx context.Context, tx sqldb.Tx, ls []snapLine) error {
	if len(ls) == 0 {
		return nil
	}
	q := "INSERT INTO ks_data_keys (id, domain, owner, kek_version, wrapped, state, seals_reserved, created_at) VALUES " +
		strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?), ", len(ls)), ", ")
	args := make([]any, 0, 8*len(ls))
	for _, l := range ls {
		var owner any
		if l.Owner != "" {
			owner = l.Owner
		}
		args = append(args, l.ID, l.Domain, owner, l.Version, l.Wrapped, l.State, l.Reserved, l.Created)
	}
	_, err := tx.Exec(ctx, q, args...)
	return err
}

func strictDecode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data")
	}
	return nil
}
