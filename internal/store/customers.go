package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code"`
	Country    string `json:"country"`
}

// Customer is a customer with its PII in clear.
type Customer struct {
	ID           string
	Name         string
	Email        string
	Phone        string
	Address      Address
	CreatedAt    time.Time
	LastActivity time.Time
	Version      int64
}

// NewCustomer is what creating a customer takes.
type NewCustomer struct {
	Name    string
	Email   string
	Phone   string
	Address Address
}

// CustomerPatch changes the fields that are not nil.
type CustomerPatch struct {
	Name    *string
	Email   *string
	Phone   *string
	Address *Address
}

// maxFieldLen bounds a PII field in bytes.
const maxFieldLen = 1024

// emailField is the blind-index field name of customers' emails.
const emailField = "customers.email"

// customerRow is a customers row as stored, sealed fields sealed. It is also
// the after-image of the change log.
type customerRow struct {
	ID           string `json:"id"`
	Name         []byte `json:"name"`
	Email        []byte `json:"email"`
	Phone        []byte `json:"phone"`
	Address      []byte `json:"address"`
	EmailBidx    []byte `json:"email_bidx"`
	BidxVersion  int64  `json:"email_bidx_version"`
	CreatedAt    int64  `json:"created_at"`
	LastActivity int64  `json:"last_activity"`
	Version      int64  `json:"version"`
}

const customerCols = "id, name, email, phone, address, email_bidx, email_bidx_version, created_at, last_activity, version"

// customerReadCols are what a read by id opens: customerCols without the
// blind index, which only lookups and its rotation use.
const customerReadCols = "id, name, email, phone, address, created_at, last_activity, version"

func (r *customerRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.ID, &r.Name, &r.Email, &r.Phone, &r.Address, &r.EmailBidx, &r.BidxVersion,
		&r.CreatedAt, &r.LastActivity, &r.Version)
}

// readDest are the destinations of customerReadCols.
func (r *customerRow) readDest() []any {
	return []any{&r.ID, &r.Name, &r.Email, &r.Phone, &r.Address, &r.CreatedAt, &r.LastActivity, &r.Version}
}

// rowReader is an engine that reads one row without its database/sql
// machinery (sqlite.DB).
type rowReader interface {
	ReadRow(ctx context.Context, query string, args []any, dest ...any) error
}

func (r *customerRow) columns() []column {
	return []column{
		{"id", r.ID}, {"name", r.Name}, {"email", r.Email}, {"phone", r.Phone}, {"address", r.Address},
		{"email_bidx", r.EmailBidx}, {"email_bidx_version", r.BidxVersion},
		{"created_at", r.CreatedAt}, {"last_activity", r.LastActivity}, {"version", r.Version},
	}
}

func bind(table, column, row string) envelope.Binding {
	return envelope.Binding{Table: table, Column: column, Row: row}
}

// NormalizeEmail trims and lower-cases an email address and checks its shape.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	at := strings.LastIndexByte(e, '@')
	if at < 1 || at == len(e)-1 || len(e) > 254 || strings.ContainsAny(e, " \t\r\n") || !utf8.ValidString(e) {
		return "", invalid("email", "not an email address")
	}
	return e, nil
}

func checkText(field, v string, required bool) error {
	if required && strings.TrimSpace(v) == "" {
		return invalid(field, "required")
	}
	if len(v) > maxFieldLen {
		return invalid(field, fmt.Sprintf("longer than %d bytes", maxFieldLen))
	}
	if !utf8.ValidString(v) {
		return invalid(field, "not valid UTF-8")
	}
	return nil
}

func (a Address) check() error {
	for _, f := range []struct{ name, v string }{
		{"address.line1", a.Line1}, {"address.line2", a.Line2}, {"address.city", a.City},
		{"address.region", a.Region}, {"address.postal_code", a.PostalCode}, {"address.country", a.Country},
	} {
		if err := checkText(f.name, f.v, false); err != nil {
			return err
		}
	}
	return nil
}

func (n *NewCustomer) check() (string, error) {
	email, err := NormalizeEmail(n.Email)
	if err != nil {
		return "", err
	}
	if err := checkText("name", n.Name, true); err != nil {
		return "", err
	}
	if err := checkText("phone", n.Phone, false); err != nil {
		return "", err
	}
	return email, n.Address.check()
}

// CreateCustomer stores a new customer with its own data key, in one
// transaction with its change record.
func (s *Store) CreateCustomer(ctx context.Context, n NewCustomer) (*Customer, error) {
	email, err := n.check()
	if err != nil {
		return nil, err
	}
	token, err := s.sec.BlindToken(emailField, []byte(email))
	if err != nil {
		return nil, err
	}
	// The unique index on the token refuses a duplicate under the active
	// blind-index version; while a re-index runs, an older version may hold
	// the same email under another token, so look it up first.
	if tokens, err := s.sec.BlindTokens(emailField, []byte(email)); err != nil {
		return nil, err
	} else if len(tokens) > 1 {
		if _, err := s.findByEmail(ctx, email); err == nil {
			return nil, ErrDuplicate
		} else if !errors.Is(err, ErrNotFound) {
			return nil, err
		}
	}
	now := sqldb.Micros(s.now())
	addr, _ := json.Marshal(n.Address)

	for attempt := 0; ; attempt++ {
		id := newID("cus")
		key, err := s.sec.NewDataKey(ctx, envelope.CustomerPII)
		if err != nil {
			return nil, err
		}
		row := &customerRow{ID: id, EmailBidx: token, BidxVersion: int64(keys.BlindVersion(token)),
			CreatedAt: now, LastActivity: now, Version: 1}
		for _, f := range []struct {
			col string
			dst *[]byte
			v   []byte
		}{{"name", &row.Name, []byte(n.Name)}, {"email", &row.Email, []byte(email)},
			{"phone", &row.Phone, []byte(n.Phone)}, {"address", &row.Address, addr}} {
			if *f.dst, err = s.sec.SealWith(ctx, key, bind("customers", f.col, id), f.v); err != nil {
				return nil, err
			}
		}
		ins, err := insertStmt("customers", row.columns())
		if err != nil {
			return nil, err
		}
		after, err := encodeRow(row)
		if err != nil {
			return nil, err
		}
		// The row, the key's assignment and the change record go in one
		// round trip.
		stmts := []sqldb.Stmt{ins}
		if a := s.sec.AssignStmt(key, id); a.Query != "" {
			stmts = append(stmts, a)
		}
		err = s.insertWrite(ctx, stmts, change{"customers", id, "insert", after}, checkAssigned)
		if errors.Is(err, keys.ErrKeyTaken) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("create customer: %w", err)
		}
		s.sec.Assigned(key, id)
		return &Customer{ID: id, Name: n.Name, Email: email, Phone: n.Phone, Address: n.Address,
			CreatedAt: sqldb.FromMicros(now), LastActivity: sqldb.FromMicros(now), Version: 1}, nil
	}
}

// checkAssigned judges an insert whose second statement, if any, assigned
// its data key.
func checkAssigned(n []int64) error {
	if len(n) == 2 {
		return keys.AssignResult(n[1])
	}
	return nil
}

// GetCustomer returns a customer with its PII opened. An erased customer is
// ErrNotFound.
func (s *Store) GetCustomer(ctx context.Context, id string) (*Customer, error) {
	if !validID("cus", id) {
		return nil, ErrNotFound
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get customer: %w", err)
	}
	var row customerRow
	const q = "SELECT " + customerReadCols + " FROM customers WHERE id = ?"
	var err error
	if rr, ok := s.db.(rowReader); ok {
		err = rr.ReadRow(s.pointRead(ctx), q, []any{id}, row.readDest()...)
	} else {
		err = s.db.QueryRow(s.pointRead(ctx), q, id).Scan(row.readDest()...)
	}
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get customer: %w", err)
	}
	return s.openCustomer(ctx, &row)
}

// pointRead is the context for a read of one row by its primary key. On
// SQLite such a read is one B-tree descent in a local file, too short for
// a cancellation to interrupt anything, and a context that can be
// cancelled costs database/sql and the driver a goroutine each to watch
// it; so it runs without the caller's cancellation, which is checked
// before. PostgreSQL reads cross a network and keep it.
func (s *Store) pointRead(ctx context.Context) context.Context {
	if s.db.Engine() == sqldb.SQLite {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

// openCustomer opens a row's sealed fields. A row whose key was destroyed
// belongs to an erased customer and is reported as ErrNotFound.
func (s *Store) openCustomer(ctx context.Context, r *customerRow) (*Customer, error) {
	c := &Customer{ID: r.ID, CreatedAt: sqldb.FromMicros(r.CreatedAt),
		LastActivity: sqldb.FromMicros(r.LastActivity), Version: r.Version}
	pts, err := s.sec.OpenAll(ctx, [][]byte{r.Name, r.Email, r.Phone, r.Address}, []envelope.Binding{
		bind("customers", "name", r.ID), bind("customers", "email", r.ID),
		bind("customers", "phone", r.ID), bind("customers", "address", r.ID)})
	if errors.Is(err, keys.ErrKeyDestroyed) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open customer: %w", err)
	}
	c.Name, c.Email, c.Phone = string(pts[0]), string(pts[1]), string(pts[2])
	if err := decodeAddress(pts[3], &c.Address); err != nil {
		return nil, fmt.Errorf("open customers.address: %w", err)
	}
	return c, nil
}

// FindCustomerByEmail looks a customer up through the blind index.
func (s *Store) FindCustomerByEmail(ctx context.Context, email string) (*Customer, error) {
	e, err := NormalizeEmail(email)
	if err != nil {
		return nil, ErrNotFound
	}
	return s.findByEmail(ctx, e)
}

func (s *Store) findByEmail(ctx context.Context, email string) (*Customer, error) {
	tokens, err := s.sec.BlindTokens(emailField, []byte(email))
	if err != nil {
		return nil, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(tokens)), ", ")
	args := make([]any, len(tokens))
	for i, t := range tokens {
		args[i] = t
	}
	var rows []customerRow
	err = s.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+customerCols+" FROM customers WHERE email_bidx IN ("+marks+")", args...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r customerRow
			if err := r.scan(rs); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("find customer: %w", err)
	}
	for i := range rows {
		c, err := s.openCustomer(ctx, &rows[i])
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		// The token is truncated: confirm the match on the opened value.
		if c.Email == email {
			return c, nil
		}
	}
	return nil, ErrNotFound
}

// UpdateCustomer applies p to the customer if it is still at version.
func (s *Store) UpdateCustomer(ctx context.Context, id string, version int64, p CustomerPatch) (*Customer, error) {
	if !validID("cus", id) {
		return nil, ErrNotFound
	}
	var cols []column
	seal := func(col string, v []byte) error {
		sealed, err := s.sec.SealFor(ctx, envelope.CustomerPII, id, bind("customers", col, id), v)
		if errors.Is(err, keys.ErrNoActiveKey) {
			return ErrNotFound
		}
		cols = append(cols, column{col, sealed})
		return err
	}
	if p.Name != nil {
		if err := checkText("name", *p.Name, true); err != nil {
			return nil, err
		}
		if err := seal("name", []byte(*p.Name)); err != nil {
			return nil, err
		}
	}
	if p.Email != nil {
		email, err := NormalizeEmail(*p.Email)
		if err != nil {
			return nil, err
		}
		if c, err := s.findByEmail(ctx, email); err == nil && c.ID != id {
			return nil, ErrDuplicate
		}
		if err := seal("email", []byte(email)); err != nil {
			return nil, err
		}
		token, err := s.sec.BlindToken(emailField, []byte(email))
		if err != nil {
			return nil, err
		}
		cols = append(cols, column{"email_bidx", token}, column{"email_bidx_version", int64(keys.BlindVersion(token))})
	}
	if p.Phone != nil {
		if err := checkText("phone", *p.Phone, false); err != nil {
			return nil, err
		}
		if err := seal("phone", []byte(*p.Phone)); err != nil {
			return nil, err
		}
	}
	if p.Address != nil {
		if err := p.Address.check(); err != nil {
			return nil, err
		}
		addr, _ := json.Marshal(p.Address)
		if err := seal("address", addr); err != nil {
			return nil, err
		}
	}
	cols = append(cols, column{"last_activity", sqldb.Micros(s.now())})

	var row customerRow
	err := s.write(ctx, func(w *wtx) error {
		if err := w.update(ctx, "customers", id, version, cols); err != nil {
			return err
		}
		if err := row.scan(w.QueryRow(ctx, "SELECT "+customerCols+" FROM customers WHERE id = ?", id)); err != nil {
			return err
		}
		return w.record("customers", id, "update", &row)
	})
	if err != nil {
		return nil, fmt.Errorf("update customer: %w", err)
	}
	return s.openCustomer(ctx, &row)
}

// ListCustomers returns customers in id order after the cursor.
func (s *Store) ListCustomers(ctx context.Context, cursor string, limit int) (Page[*Customer], error) {
	limit = pageLimit(limit)
	var rows []customerRow
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+customerCols+" FROM customers WHERE id > ? ORDER BY id LIMIT ?",
			cursor, limit+1)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r customerRow
			if err := r.scan(rs); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err != nil {
		return Page[*Customer]{}, fmt.Errorf("list customers: %w", err)
	}
	var p Page[*Customer]
	if len(rows) > limit {
		rows = rows[:limit]
		p.Next = rows[limit-1].ID
	}
	for i := range rows {
		c, err := s.openCustomer(ctx, &rows[i])
		if errors.Is(err, ErrNotFound) {
			continue // erased, row not swept yet
		}
		if err != nil {
			return Page[*Customer]{}, err
		}
		p.Items = append(p.Items, c)
	}
	return p, nil
}

// ShredCustomer erases a customer by destroying its data keys, then deletes
// its row. Its orders stay (their totals are not personal data) but their
// notes, sealed with the same key, no longer open. The keys go first: a crash
// in between leaves an unreadable row, which SweepErased removes.
func (s *Store) ShredCustomer(ctx context.Context, id string) error {
	if !validID("cus", id) {
		return ErrNotFound
	}
	var exists int64
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		return tx.QueryRow(ctx, "SELECT COUNT(*) FROM customers WHERE id = ?", id).Scan(&exists)
	})
	if err != nil {
		return fmt.Errorf("shred customer: %w", err)
	}
	if exists == 0 {
		return ErrNotFound
	}
	if _, err := s.sec.Shred(ctx, id); err != nil {
		return fmt.Errorf("shred customer: %w", err)
	}
	return s.deleteCustomerRow(ctx, id)
}

func (s *Store) deleteCustomerRow(ctx context.Context, id string) error {
	err := s.write(ctx, func(w *wtx) error {
		n, err := w.Exec(ctx, "DELETE FROM customers WHERE id = ?", id)
		if err != nil || n == 0 {
			return err
		}
		return w.record("customers", id, "delete", nil)
	})
	if err != nil {
		return fmt.Errorf("delete customer: %w", err)
	}
	return nil
}

// SweepErased deletes customer rows whose data key was destroyed but whose
// row survived (a crash between the two steps of ShredCustomer). It returns
// how many rows it removed.
func (s *Store) SweepErased(ctx context.Context) (int, error) {
	removed, cursor := 0, ""
	for {
		var batch []customerRow
		err := s.db.Read(ctx, func(tx sqldb.Tx) error {
			rs, err := tx.Query(ctx, "SELECT "+customerCols+" FROM customers WHERE id > ? ORDER BY id LIMIT 500", cursor)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var r customerRow
				if err := r.scan(rs); err != nil {
					return err
				}
				batch = append(batch, r)
			}
			return rs.Err()
		})
		if err != nil || len(batch) == 0 {
			return removed, err
		}
		cursor = batch[len(batch)-1].ID
		for i := range batch {
			_, err := s.sec.Open(ctx, batch[i].Name, bind("customers", "name", batch[i].ID))
			if !errors.Is(err, keys.ErrKeyDestroyed) {
				continue
			}
			if err := s.deleteCustomerRow(ctx, batch[i].ID); err != nil {
				return removed, err
			}
			removed++
		}
	}
}

// blindIndexUsage counts customers whose email token uses version v.
func blindIndexUsage(ctx context.Context, tx sqldb.Tx, v uint32) (int64, error) {
	var n int64
	err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM customers WHERE email_bidx_version = ?", int64(v)).Scan(&n)
	return n, err
}

// ReindexEmails recomputes the blind-index tokens of customers whose token
// uses an older key version, in batches, online. It can be interrupted and
// run again. progress, if not nil, is called after each batch.
func (s *Store) ReindexEmails(ctx context.Context, progress func(done int64)) (int64, error) {
	probe, err := s.sec.BlindToken(emailField, []byte("probe"))
	if err != nil {
		return 0, err
	}
	active := int64(keys.BlindVersion(probe))
	var done int64
	for {
		var batch []customerRow
		err := s.db.Read(ctx, func(tx sqldb.Tx) error {
			rs, err := tx.Query(ctx, "SELECT "+customerCols+" FROM customers WHERE email_bidx_version <> ?"+
				" ORDER BY id LIMIT 500", active)
			if err != nil {
				return err
			}
			defer rs.Close()
			for rs.Next() {
				var r customerRow
				if err := r.scan(rs); err != nil {
					return err
				}
				batch = append(batch, r)
			}
			return rs.Err()
		})
		if err != nil {
			return done, fmt.Errorf("reindex: %w", err)
		}
		if len(batch) == 0 {
			return done, nil
		}
		n, err := s.reindexBatch(ctx, batch)
		done += n
		if err != nil {
			return done, err
		}
		if progress != nil {
			progress(done)
		}
	}
}

func (s *Store) reindexBatch(ctx context.Context, batch []customerRow) (int64, error) {
	type upd struct {
		id      string
		version int64
		token   []byte
	}
	var ups []upd
	var erased []string
	for i := range batch {
		email, err := s.sec.Open(ctx, batch[i].Email, bind("customers", "email", batch[i].ID))
		if errors.Is(err, keys.ErrKeyDestroyed) {
			erased = append(erased, batch[i].ID)
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("reindex %s: %w", batch[i].ID, err)
		}
		token, err := s.sec.BlindToken(emailField, email)
		if err != nil {
			return 0, err
		}
		ups = append(ups, upd{batch[i].ID, batch[i].Version, token})
	}
	for _, id := range erased {
		if err := s.deleteCustomerRow(ctx, id); err != nil {
			return 0, err
		}
	}
	var n int64
	err := s.write(ctx, func(w *wtx) error {
		n = 0
		for _, u := range ups {
			cols := []column{{"email_bidx", u.token}, {"email_bidx_version", int64(keys.BlindVersion(u.token))}}
			err := w.update(ctx, "customers", u.id, u.version, cols)
			if errors.Is(err, ErrConflict) || errors.Is(err, ErrNotFound) {
				continue // changed meanwhile: the writer used the new key already, or it is gone
			}
			if err != nil {
				return err
			}
			var row customerRow
			if err := row.scan(w.QueryRow(ctx, "SELECT "+customerCols+" FROM customers WHERE id = ?", u.id)); err != nil {
				return err
			}
			if err := w.record("customers", u.id, "update", &row); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reindex: %w", err)
	}
	return n, nil
}
