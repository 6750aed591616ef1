package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// Order statuses.
const (
	StatusPending   = "pending"
	StatusPaid      = "paid"
	StatusShipped   = "shipped"
	StatusDelivered = "delivered"
	StatusCancelled = "cancelled"
	StatusRefunded  = "refunded"
)

// transitions lists the statuses each status may move to.
var transitions = map[string][]string{
	StatusPending:   {StatusPaid, StatusCancelled},
	StatusPaid:      {StatusShipped, StatusCancelled, StatusRefunded},
	StatusShipped:   {StatusDelivered},
	StatusDelivered: {StatusRefunded},
}

// CanTransition reports whether an order may move from one status to another.
func CanTransition(from, to string) bool {
	for _, s := range transitions[from] {
		if s == to {
			return true
		}
	}
	return false
}

// OrderLine is one product in an order, priced when the order was placed.
type OrderLine struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// Order is an order with its notes opened.
type Order struct {
	ID           string
	CustomerID   string
	Lines        []OrderLine
	Total        int64
	Currency     string
	Status       string
	PaymentToken string
	Notes        string
	// NotesErased is set when the notes were sealed with a customer key
	// that has since been destroyed.
	NotesErased bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Version     int64
}

// NewOrderLine asks for a quantity of a product.
type NewOrderLine struct {
	SKU      string
	Quantity int64
}

// NewOrder is what placing an order takes. Prices come from the catalogue.
type NewOrder struct {
	CustomerID   string
	Lines        []NewOrderLine
	Currency     string
	PaymentToken string
	Notes        string
}

type orderRow struct {
	ID           string `json:"id"`
	CustomerID   string `json:"customer_id"`
	Lines        string `json:"lines"`
	Total        int64  `json:"total"`
	Currency     string `json:"currency"`
	Status       string `json:"status"`
	PaymentToken string `json:"payment_token"`
	Notes        []byte `json:"notes"`
	CreatedAt    int64  `json:"created_at"`
	UpdatedAt    int64  `json:"updated_at"`
	Version      int64  `json:"version"`
}

const orderCols = "id, customer_id, lines, total, currency, status, payment_token, notes, created_at, updated_at, version"

func (r *orderRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.ID, &r.CustomerID, &r.Lines, &r.Total, &r.Currency, &r.Status, &r.PaymentToken,
		&r.Notes, &r.CreatedAt, &r.UpdatedAt, &r.Version)
}

func (r *orderRow) columns() []column {
	return []column{{"id", r.ID}, {"customer_id", r.CustomerID}, {"lines", r.Lines}, {"total", r.Total},
		{"currency", r.Currency}, {"status", r.Status}, {"payment_token", r.PaymentToken},
		{"notes", r.Notes}, {"created_at", r.CreatedAt}, {"updated_at", r.UpdatedAt}, {"version", r.Version}}
}

// Limits on an order.
const (
	maxOrderLines = 100
	maxQuantity   = 10000
	maxNotes      = 4096
)

func checkOrder(n *NewOrder) error {
	if !validID("cus", n.CustomerID) {
		return invalid("customer_id", "not a customer id")
	}
	if len(n.Lines) == 0 || len(n.Lines) > maxOrderLines {
		return invalid("lines", fmt.Sprintf("between 1 and %d lines", maxOrderLines))
	}
	seen := map[string]bool{}
	for _, l := range n.Lines {
		if !skuPattern.MatchString(l.SKU) {
			return invalid("lines.sku", "not a SKU")
		}
		if seen[l.SKU] {
			return invalid("lines.sku", "listed twice")
		}
		seen[l.SKU] = true
		if l.Quantity < 1 || l.Quantity > maxQuantity {
			return invalid("lines.quantity", fmt.Sprintf("between 1 and %d", maxQuantity))
		}
	}
	if !currencyPattern.MatchString(n.Currency) {
		return invalid("currency", "an ISO 4217 code such as EUR")
	}
	if n.PaymentToken != "" && !ValidToken(n.PaymentToken) {
		// Only a vault token: a card number here would be kept in clear.
		return invalid("payment_token", "not a payment vault token")
	}
	if len(n.Notes) > maxNotes {
		return invalid("notes", "too long")
	}
	return checkText("notes", n.Notes, false)
}

// CreateOrder places an order: it prices the lines from the catalogue,
// takes the stock (ErrInsufficientStock if any line lacks it) and stores the
// order with its notes sealed under the customer's data key, all in one
// transaction. A payment token must be live in the vault: not unknown,
// deleted, expired or used up.
func (s *Store) CreateOrder(ctx context.Context, n NewOrder) (*Order, error) {
	if err := checkOrder(&n); err != nil {
		return nil, err
	}
	// Take stock in SKU order, so that concurrent orders lock products in
	// the same order and cannot deadlock.
	n.Lines = slices.Clone(n.Lines)
	slices.SortFunc(n.Lines, func(a, b NewOrderLine) int { return strings.Compare(a.SKU, b.SKU) })
	id := newID("ord")
	var notes []byte
	if n.Notes != "" {
		var err error
		notes, err = s.sec.SealFor(ctx, envelope.CustomerPII, n.CustomerID, bind("orders", "notes", id), []byte(n.Notes))
		if errors.Is(err, keys.ErrNoActiveKey) {
			return nil, fmt.Errorf("create order: customer: %w", ErrNotFound)
		}
		if err != nil {
			return nil, fmt.Errorf("create order: %w", err)
		}
	}
	now := sqldb.Micros(s.now())
	row := &orderRow{ID: id, CustomerID: n.CustomerID, Currency: n.Currency, Status: StatusPending,
		PaymentToken: n.PaymentToken, Notes: notes, CreatedAt: now, UpdatedAt: now, Version: 1}
	var lines []OrderLine
	err := s.write(ctx, func(w *wtx) error {
		lines = lines[:0]
		row.Total = 0
		var one int64
		err := w.QueryRow(ctx, "SELECT 1 FROM customers WHERE id = ?", n.CustomerID).Scan(&one)
		if errors.Is(err, sqldb.ErrNoRows) {
			return fmt.Errorf("customer: %w", ErrNotFound)
		}
		if err != nil {
			return err
		}
		if n.PaymentToken != "" {
			if err := w.checkCardLive(ctx, n.PaymentToken, now); err != nil {
				return err
			}
		}
		for _, l := range n.Lines {
			line, err := w.takeStock(ctx, l, n.Currency)
			if err != nil {
				return err
			}
			lines = append(lines, line)
			row.Total += line.UnitPrice * line.Quantity
		}
		b, err := json.Marshal(lines)
		if err != nil {
			return err
		}
		row.Lines = string(b)
		if err := w.insert(ctx, "orders", row.columns()); err != nil {
			return err
		}
		return w.record("orders", id, "insert", row)
	})
	if err != nil {
		return nil, fmt.Errorf("create order: %w", err)
	}
	return &Order{ID: id, CustomerID: n.CustomerID, Lines: lines, Total: row.Total, Currency: n.Currency,
		Status: StatusPending, PaymentToken: n.PaymentToken, Notes: n.Notes,
		CreatedAt: sqldb.FromMicros(now), UpdatedAt: sqldb.FromMicros(now), Version: 1}, nil
}

// takeStock decrements a product's stock if enough is left and returns the
// priced line.
func (w *wtx) takeStock(ctx context.Context, l NewOrderLine, currency string) (OrderLine, error) {
	var p productRow
	err := p.scan(w.QueryRow(ctx, "SELECT "+productCols+" FROM products WHERE sku = ?", l.SKU))
	if errors.Is(err, sqldb.ErrNoRows) {
		return OrderLine{}, fmt.Errorf("product %s: %w", l.SKU, ErrNotFound)
	}
	if err != nil {
		return OrderLine{}, err
	}
	if p.Currency != currency {
		return OrderLine{}, invalid("currency", "product "+l.SKU+" is priced in "+p.Currency)
	}
	n, err := w.Exec(ctx, "UPDATE products SET stock = stock - ?, version = version + 1"+
		" WHERE id = ? AND stock >= ?", l.Quantity, p.ID, l.Quantity)
	if err != nil {
		return OrderLine{}, err
	}
	if n == 0 {
		return OrderLine{}, fmt.Errorf("product %s: %w", l.SKU, ErrInsufficientStock)
	}
	if err := w.recordProduct(ctx, p.ID, &p); err != nil {
		return OrderLine{}, err
	}
	return OrderLine{SKU: l.SKU, Quantity: l.Quantity, UnitPrice: p.Price}, nil
}

func (s *Store) openOrder(ctx context.Context, r *orderRow) (*Order, error) {
	o := &Order{ID: r.ID, CustomerID: r.CustomerID, Total: r.Total, Currency: r.Currency, Status: r.Status,
		PaymentToken: r.PaymentToken, CreatedAt: sqldb.FromMicros(r.CreatedAt),
		UpdatedAt: sqldb.FromMicros(r.UpdatedAt), Version: r.Version}
	if err := json.Unmarshal([]byte(r.Lines), &o.Lines); err != nil {
		return nil, fmt.Errorf("open order lines: %w", err)
	}
	if r.Notes != nil {
		pt, err := s.sec.Open(ctx, r.Notes, bind("orders", "notes", r.ID))
		switch {
		case errors.Is(err, keys.ErrKeyDestroyed):
			o.NotesErased = true
		case err != nil:
			return nil, fmt.Errorf("open orders.notes: %w", err)
		default:
			o.Notes = string(pt)
		}
	}
	return o, nil
}

// GetOrder returns an order with its notes opened.
func (s *Store) GetOrder(ctx context.Context, id string) (*Order, error) {
	if !validID("ord", id) {
		return nil, ErrNotFound
	}
	var row orderRow
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		return row.scan(tx.QueryRow(ctx, "SELECT "+orderCols+" FROM orders WHERE id = ?", id))
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get order: %w", err)
	}
	return s.openOrder(ctx, &row)
}

// ListOrdersByCustomer returns a customer's orders in id order after the
// cursor.
func (s *Store) ListOrdersByCustomer(ctx context.Context, customerID, cursor string, limit int) (Page[*Order], error) {
	return s.listOrders(ctx, "customer_id = ? AND ", []any{customerID}, cursor, limit)
}

// ListOrders returns every customer's orders in id order after the cursor.
func (s *Store) ListOrders(ctx context.Context, cursor string, limit int) (Page[*Order], error) {
	return s.listOrders(ctx, "", nil, cursor, limit)
}

// listOrders returns the orders after the cursor that where (a condition
// ending in "AND ", or "") with args selects.
func (s *Store) listOrders(ctx context.Context, where string, args []any, cursor string, limit int) (Page[*Order], error) {
	limit = pageLimit(limit)
	var rows []orderRow
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+orderCols+" FROM orders WHERE "+where+"id > ?"+
			" ORDER BY id LIMIT ?", append(args, cursor, limit+1)...)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r orderRow
			if err := r.scan(rs); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err != nil {
		return Page[*Order]{}, fmt.Errorf("list orders: %w", err)
	}
	var p Page[*Order]
	if len(rows) > limit {
		rows = rows[:limit]
		p.Next = rows[limit-1].ID
	}
	for i := range rows {
		o, err := s.openOrder(ctx, &rows[i])
		if err != nil {
			return Page[*Order]{}, err
		}
		p.Items = append(p.Items, o)
	}
	return p, nil
}

// UpdateOrderStatus moves an order to status if the move is allowed and the
// order is still at version. Cancelling returns the stock.
func (s *Store) UpdateOrderStatus(ctx context.Context, id string, version int64, status string) (*Order, error) {
	if !validID("ord", id) {
		return nil, ErrNotFound
	}
	var row orderRow
	err := s.write(ctx, func(w *wtx) error {
		err := row.scan(w.QueryRow(ctx, "SELECT "+orderCols+" FROM orders WHERE id = ?", id))
		if errors.Is(err, sqldb.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if row.Version != version {
			return ErrConflict
		}
		if !CanTransition(row.Status, status) {
			return fmt.Errorf("%w: %s to %s", ErrInvalidTransition, row.Status, status)
		}
		if status == StatusCancelled {
			if err := w.returnStock(ctx, row.Lines); err != nil {
				return err
			}
		}
		cols := []column{{"status", status}, {"updated_at", sqldb.Micros(s.now())}}
		if err := w.update(ctx, "orders", id, version, cols); err != nil {
			return err
		}
		if err := row.scan(w.QueryRow(ctx, "SELECT "+orderCols+" FROM orders WHERE id = ?", id)); err != nil {
			return err
		}
		return w.record("orders", id, "update", &row)
	})
	if err != nil {
		return nil, fmt.Errorf("update order: %w", err)
	}
	return s.openOrder(ctx, &row)
}

func (w *wtx) returnStock(ctx context.Context, linesJSON string) error {
	var lines []OrderLine
	if err := json.Unmarshal([]byte(linesJSON), &lines); err != nil {
		return err
	}
	for _, l := range lines {
		var p productRow
		err := p.scan(w.QueryRow(ctx, "SELECT "+productCols+" FROM products WHERE sku = ?", l.SKU))
		if errors.Is(err, sqldb.ErrNoRows) {
			continue // no longer in the catalogue
		}
		if err != nil {
			return err
		}
		if _, err := w.Exec(ctx, "UPDATE products SET stock = stock + ?, version = version + 1 WHERE id = ?",
			l.Quantity, p.ID); err != nil {
			return err
		}
		if err := w.recordProduct(ctx, p.ID, &p); err != nil {
			return err
		}
	}
	return nil
}
