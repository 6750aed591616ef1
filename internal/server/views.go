package server

import (
	"time"

	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/store"
)

// Views are the JSON the API sends. PII fields are either in clear or
// masked, decided per request by the readPII policy; a masked response says
// so in "masked".

// AddressView is a postal address; masked, only city and country remain.
type AddressView struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postal_code,omitempty"`
	Country    string `json:"country,omitempty"`
}

// CustomerView is a customer as the API shows it.
type CustomerView struct {
	ID           string      `json:"id"`
	Name         string      `json:"name"`
	Email        string      `json:"email"`
	Phone        string      `json:"phone"`
	Address      AddressView `json:"address"`
	CreatedAt    time.Time   `json:"created_at"`
	LastActivity time.Time   `json:"last_activity"`
	Version      int64       `json:"version"`
	Masked       bool        `json:"masked"`
}

func customerView(c *store.Customer, clear bool) CustomerView {
	v := CustomerView{ID: c.ID, CreatedAt: c.CreatedAt, LastActivity: c.LastActivity,
		Version: c.Version, Masked: !clear}
	if clear {
		v.Name, v.Email, v.Phone = c.Name, c.Email, c.Phone
		a := c.Address
		v.Address = AddressView{Line1: a.Line1, Line2: a.Line2, City: a.City, Region: a.Region,
			PostalCode: a.PostalCode, Country: a.Country}
		return v
	}
	v.Name = policy.MaskName(c.Name)
	v.Email = policy.MaskEmail(c.Email)
	v.Phone = policy.MaskPhone(c.Phone)
	v.Address = AddressView{City: c.Address.City, Country: c.Address.Country}
	return v
}

// ProductView is a catalogue entry.
type ProductView struct {
	ID          string    `json:"id"`
	SKU         string    `json:"sku"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Price       int64     `json:"price"`
	Currency    string    `json:"currency"`
	Stock       int64     `json:"stock"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	Version     int64     `json:"version"`
}

func productView(p *store.Product) ProductView {
	return ProductView{ID: p.ID, SKU: p.SKU, Name: p.Name, Description: p.Description, Price: p.Price,
		Currency: p.Currency, Stock: p.Stock, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt, Version: p.Version}
}

// OrderLineView is one line of an order.
type OrderLineView struct {
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	UnitPrice int64  `json:"unit_price"`
}

// OrderView is an order; its notes are PII and masked like the rest.
type OrderView struct {
	ID           string          `json:"id"`
	CustomerID   string          `json:"customer_id"`
	Lines        []OrderLineView `json:"lines"`
	Total        int64           `json:"total"`
	Currency     string          `json:"currency"`
	Status       string          `json:"status"`
	PaymentToken string          `json:"payment_token,omitempty"`
	Notes        string          `json:"notes,omitempty"`
	NotesErased  bool            `json:"notes_erased,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	UpdatedAt    time.Time       `json:"updated_at"`
	Version      int64           `json:"version"`
	Masked       bool            `json:"masked"`
}

func orderView(o *store.Order, clear bool) OrderView {
	v := OrderView{ID: o.ID, CustomerID: o.CustomerID, Total: o.Total, Currency: o.Currency,
		Status: o.Status, PaymentToken: o.PaymentToken, NotesErased: o.NotesErased,
		CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt, Version: o.Version, Masked: !clear}
	v.Lines = make([]OrderLineView, len(o.Lines))
	for i, l := range o.Lines {
		v.Lines[i] = OrderLineView(l)
	}
	switch {
	case clear:
		v.Notes = o.Notes
	case o.Notes != "":
		v.Notes = policy.Masked
	}
	return v
}

// Page is a page of a list with the cursor of the next one.
type Page[T any] struct {
	Items []T    `json:"items"`
	Next  string `json:"next_cursor,omitempty"`
}
