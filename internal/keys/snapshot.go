package keys

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

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
// afterwards.
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
	for sc.Scan() {
		var l snapLine
		if err := strictDecode(sc.Bytes(), &l); err != nil {
			return fmt.Errorf("restore keystore: line %d: %w", len(lines)+2, err)
		}
		lines = append(lines, l)
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
				var owner any
				if l.Owner != "" {
					owner = l.Owner
				}
				_, err = tx.Exec(ctx, "INSERT INTO ks_data_keys (id, domain, owner, kek_version, wrapped,"+
					" state, seals_reserved, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
					l.ID, l.Domain, owner, l.Version, l.Wrapped, l.State, l.Reserved, l.Created)
			default:
				err = fmt.Errorf("unknown line type %q", l.Type)
			}
			if err != nil {
				return fmt.Errorf("restore keystore: line %d: %w", i+2, err)
			}
		}
		return nil
	})
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
