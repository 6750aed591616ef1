// Package storescan scans the free-text fields of the store for sensitive
// data: product names and descriptions, and order notes. Order notes are
// sealed with their customer's data key; the store opens them in memory,
// they are scanned there and nothing of them is written anywhere but the
// masked sample of a finding. The customer fields (name, email, phone,
// address) are not scanned: they are meant to hold PII, and the store
// seals them as such.
package storescan

import (
	"context"

	"github.com/securecart/securecart/internal/scan"
	"github.com/securecart/securecart/internal/store"
)

const pageSize = 500

// Source is the part of the store a scan reads; *store.Store is one.
type Source interface {
	ListProducts(ctx context.Context, cursor string, limit int) (store.Page[*store.Product], error)
	ListOrders(ctx context.Context, cursor string, limit int) (store.Page[*store.Order], error)
}

// Scan scans the store's free-text fields with sc, calling emit with each
// finding and done with each field scanned, named as
// "store:products/<id>/description" or "store:orders/<id>/notes".
func Scan(ctx context.Context, src Source, sc *scan.Scanner, emit func(scan.Finding), done func(scan.Object)) error {
	field := func(object, text string) {
		if text == "" {
			return
		}
		fs := sc.Text(object, []byte(text))
		for _, f := range fs {
			emit(f)
		}
		done(scan.Object{Name: object, Bytes: int64(len(text)), Findings: len(fs)})
	}

	for cursor := ""; ; {
		page, err := src.ListProducts(ctx, cursor, pageSize)
		if err != nil {
			return err
		}
		for _, p := range page.Items {
			field("store:products/"+p.ID+"/name", p.Name)
			field("store:products/"+p.ID+"/description", p.Description)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}

	for cursor := ""; ; {
		page, err := src.ListOrders(ctx, cursor, pageSize)
		if err != nil {
			return err
		}
		for _, o := range page.Items {
			if o.NotesErased {
				done(scan.Object{Name: "store:orders/" + o.ID + "/notes", Skipped: "erased with its customer's key"})
				continue
			}
			field("store:orders/"+o.ID+"/notes", o.Notes)
		}
		if cursor = page.Next; cursor == "" {
			break
		}
	}
	return ctx.Err()
}
