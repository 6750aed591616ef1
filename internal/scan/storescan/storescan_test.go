package storescan

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/securecart/securecart/internal/scan"
	"github.com/securecart/securecart/internal/store"
)

// pages is a Source that serves its items two at a time.
type pages struct {
	products []*store.Product
	orders   []*store.Order
}

func page[T any](items []T, cursor string, id func(T) string) store.Page[T] {
	var p store.Page[T]
	for _, it := range items {
		if id(it) > cursor && len(p.Items) < 2 {
			p.Items = append(p.Items, it)
		}
	}
	if len(p.Items) == 2 && id(p.Items[1]) != id(items[len(items)-1]) {
		p.Next = id(p.Items[1])
	}
	return p
}

func (s *pages) ListProducts(_ context.Context, cursor string, _ int) (store.Page[*store.Product], error) {
	return page(s.products, cursor, func(p *store.Product) string { return p.ID }), nil
}

func (s *pages) ListOrders(_ context.Context, cursor string, _ int) (store.Page[*store.Order], error) {
	return page(s.orders, cursor, func(o *store.Order) string { return o.ID }), nil
}

func TestScanFreeTextFields(t *testing.T) {
	src := &pages{
		products: []*store.Product{
			{ID: "prd_1", Name: "Mug", Description: "A mug."},
			{ID: "prd_2", Name: "Tee", Description: "Questions: shop.owner@example.com"},
			{ID: "prd_3", Name: "Cap", Description: ""},
		},
		orders: []*store.Order{
			{ID: "ord_1", Notes: "leave at door"},
			{ID: "ord_2", Notes: "my card is 4539 1488 0343 6467, charge it"},
			{ID: "ord_3", NotesErased: true},
			{ID: "ord_4", Notes: "IBAN DE89 3704 0044 0532 0130 00 for refunds"},
		},
	}
	sc, err := scan.NewScanner(scan.Options{MinConfidence: scan.DefaultMinConfidence})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var objects, skipped int
	err = Scan(context.Background(), src, sc,
		func(f scan.Finding) { got = append(got, fmt.Sprintf("%s %s %s", f.Object, f.Detector, f.Sample)) },
		func(o scan.Object) {
			objects++
			if o.Skipped != "" {
				skipped++
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"store:products/prd_2/description email s•••@example.com",
		"store:orders/ord_2/notes card ••••6467",
		"store:orders/ord_4/notes iban DE••…3000",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if objects != 9 || skipped != 1 {
		t.Errorf("objects = %d (skipped %d), want 9 (skipped 1)", objects, skipped)
	}
	for _, g := range got {
		if strings.Contains(g, "4539") || strings.Contains(g, "shop.owner") {
			t.Errorf("finding shows the value: %s", g)
		}
	}
}
