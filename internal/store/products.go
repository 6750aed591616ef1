package store

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/securecart/securecart/internal/sqldb"
)

// Product is a catalogue entry.
type Product struct {
	ID          string
	SKU         string
	Name        string
	Description string
	// Price is the unit price in minor units of Currency.
	Price     int64
	Currency  string
	Stock     int64
	CreatedAt time.Time
	UpdatedAt time.Time
	Version   int64
}

// NewProduct is what creating a product takes.
type NewProduct struct {
	SKU         string
	Name        string
	Description string
	Price       int64
	Currency    string
	Stock       int64
}

// ProductPatch changes the fields that are not nil.
type ProductPatch struct {
	Name        *string
	Description *string
	Price       *int64
	Stock       *int64
}

type productRow struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Price       int64  `json:"price"`
	Currency    string `json:"currency"`
	Stock       int64  `json:"stock"`
	CreatedAt   int64  `json:"created_at"`
	UpdatedAt   int64  `json:"updated_at"`
	Version     int64  `json:"version"`
}

const productCols = "id, sku, name, description, price, currency, stock, created_at, updated_at, version"

func (r *productRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.ID, &r.SKU, &r.Name, &r.Description, &r.Price, &r.Currency, &r.Stock,
		&r.CreatedAt, &r.UpdatedAt, &r.Version)
}

func (r *productRow) columns() []column {
	return []column{{"id", r.ID}, {"sku", r.SKU}, {"name", r.Name}, {"description", r.Description},
		{"price", r.Price}, {"currency", r.Currency}, {"stock", r.Stock},
		{"created_at", r.CreatedAt}, {"updated_at", r.UpdatedAt}, {"version", r.Version}}
}

func (r *productRow) product() *Product {
	return &Product{ID: r.ID, SKU: r.SKU, Name: r.Name, Description: r.Description, Price: r.Price,
		Currency: r.Currency, Stock: r.Stock, CreatedAt: sqldb.FromMicros(r.CreatedAt),
		UpdatedAt: sqldb.FromMicros(r.UpdatedAt), Version: r.Version}
}

var (
	skuPattern      = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	currencyPattern = regexp.MustCompile(`^[A-Z]{3}$`)
)

// maxDescription bounds a product description in bytes.
const maxDescription = 16 << 10

func checkProduct(n *NewProduct) error {
	if !skuPattern.MatchString(n.SKU) {
		return invalid("sku", "1 to 64 letters, digits, '.', '_' or '-'")
	}
	if !currencyPattern.MatchString(n.Currency) {
		return invalid("currency", "an ISO 4217 code such as EUR")
	}
	if err := checkText("name", n.Name, true); err != nil {
		return err
	}
	if len(n.Description) > maxDescription {
		return invalid("description", "too long")
	}
	if n.Price < 0 {
		return invalid("price", "negative")
	}
	if n.Stock < 0 {
		return invalid("stock", "negative")
	}
	return nil
}

// CreateProduct adds a product to the catalogue.
func (s *Store) CreateProduct(ctx context.Context, n NewProduct) (*Product, error) {
	if err := checkProduct(&n); err != nil {
		return nil, err
	}
	now := sqldb.Micros(s.now())
	row := &productRow{ID: newID("prd"), SKU: n.SKU, Name: n.Name, Description: n.Description,
		Price: n.Price, Currency: n.Currency, Stock: n.Stock, CreatedAt: now, UpdatedAt: now, Version: 1}
	err := s.write(ctx, func(w *wtx) error {
		if err := w.insert(ctx, "products", row.columns()); err != nil {
			return err
		}
		return w.record("products", row.ID, "insert", row)
	})
	if err != nil {
		return nil, fmt.Errorf("create product: %w", err)
	}
	return row.product(), nil
}

func (s *Store) getProduct(ctx context.Context, where string, arg any) (*Product, error) {
	var row productRow
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		return row.scan(tx.QueryRow(ctx, "SELECT "+productCols+" FROM products WHERE "+where+" = ?", arg))
	})
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get product: %w", err)
	}
	return row.product(), nil
}

// GetProduct returns a product by id.
func (s *Store) GetProduct(ctx context.Context, id string) (*Product, error) {
	if !validID("prd", id) {
		return nil, ErrNotFound
	}
	return s.getProduct(ctx, "id", id)
}

// GetProductBySKU returns a product by SKU.
func (s *Store) GetProductBySKU(ctx context.Context, sku string) (*Product, error) {
	if !skuPattern.MatchString(sku) {
		return nil, ErrNotFound
	}
	return s.getProduct(ctx, "sku", sku)
}

// UpdateProduct applies p if the product is still at version.
func (s *Store) UpdateProduct(ctx context.Context, id string, version int64, p ProductPatch) (*Product, error) {
	if !validID("prd", id) {
		return nil, ErrNotFound
	}
	var cols []column
	if p.Name != nil {
		if err := checkText("name", *p.Name, true); err != nil {
			return nil, err
		}
		cols = append(cols, column{"name", *p.Name})
	}
	if p.Description != nil {
		if len(*p.Description) > maxDescription {
			return nil, invalid("description", "too long")
		}
		cols = append(cols, column{"description", *p.Description})
	}
	if p.Price != nil {
		if *p.Price < 0 {
			return nil, invalid("price", "negative")
		}
		cols = append(cols, column{"price", *p.Price})
	}
	if p.Stock != nil {
		if *p.Stock < 0 {
			return nil, invalid("stock", "negative")
		}
		cols = append(cols, column{"stock", *p.Stock})
	}
	cols = append(cols, column{"updated_at", sqldb.Micros(s.now())})
	var row productRow
	err := s.write(ctx, func(w *wtx) error {
		if err := w.update(ctx, "products", id, version, cols); err != nil {
			return err
		}
		return w.recordProduct(ctx, id, &row)
	})
	if err != nil {
		return nil, fmt.Errorf("update product: %w", err)
	}
	return row.product(), nil
}

func (w *wtx) recordProduct(ctx context.Context, id string, row *productRow) error {
	if err := row.scan(w.QueryRow(ctx, "SELECT "+productCols+" FROM products WHERE id = ?", id)); err != nil {
		return err
	}
	return w.record("products", id, "update", row)
}

// DeleteProduct removes a product from the catalogue. Orders keep their
// copy of its SKU and price.
func (s *Store) DeleteProduct(ctx context.Context, id string) error {
	if !validID("prd", id) {
		return ErrNotFound
	}
	err := s.write(ctx, func(w *wtx) error {
		n, err := w.Exec(ctx, "DELETE FROM products WHERE id = ?", id)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return w.record("products", id, "delete", nil)
	})
	if err != nil {
		return fmt.Errorf("delete product: %w", err)
	}
	return nil
}

// ListProducts returns products in id order after the cursor.
func (s *Store) ListProducts(ctx context.Context, cursor string, limit int) (Page[*Product], error) {
	limit = pageLimit(limit)
	var p Page[*Product]
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT "+productCols+" FROM products WHERE id > ? ORDER BY id LIMIT ?",
			cursor, limit+1)
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r productRow
			if err := r.scan(rs); err != nil {
				return err
			}
			p.Items = append(p.Items, r.product())
		}
		return rs.Err()
	})
	if err != nil {
		return p, fmt.Errorf("list products: %w", err)
	}
	if len(p.Items) > limit {
		p.Items = p.Items[:limit]
		p.Next = p.Items[limit-1].ID
	}
	return p, nil
}
