package sqldb

import (
	"context"
	"fmt"
	"strings"
)

// MigrationsTable is created by each engine to record applied migrations.
const MigrationsTable = "schema_migrations"

// ApplyMigrations runs, each in its own transaction, the migrations of
// component that tx's database has not applied yet. Engines call it from
// Migrate with a function that opens one durable write transaction.
func ApplyMigrations(ctx context.Context, engine, component string, ms []Migration,
	write func(context.Context, func(Tx) error) error) error {
	for i, m := range ms {
		if m.Version != i+1 {
			return fmt.Errorf("migrate %s: version %d out of order", component, m.Version)
		}
	}
	for _, m := range ms {
		err := write(ctx, func(tx Tx) error {
			var n int64
			err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM "+MigrationsTable+
				" WHERE component = ? AND version = ?", component, m.Version).Scan(&n)
			if err != nil {
				return err
			}
			if n > 0 {
				return nil
			}
			for _, stmt := range SplitStatements(m.SQL(engine)) {
				if _, err := tx.Exec(ctx, stmt); err != nil {
					return fmt.Errorf("%s %d (%s): %w", component, m.Version, m.Name, err)
				}
			}
			_, err = tx.Exec(ctx, "INSERT INTO "+MigrationsTable+
				" (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
				component, m.Version, m.Name, Micros(timeNow()))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate %s: %w", component, err)
		}
	}
	return nil
}

// SplitStatements splits a migration script on semicolons at the end of a
// line. Migration scripts keep one statement per such line group.
func SplitStatements(script string) []string {
	var out []string
	for _, part := range strings.Split(script, ";\n") {
		if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(part), ";")); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// AppliedVersion returns the highest migration version of component.
func AppliedVersion(ctx context.Context, db DB, component string) (int, error) {
	var v int64
	err := db.Read(ctx, func(tx Tx) error {
		return tx.QueryRow(ctx, "SELECT COALESCE(MAX(version), 0) FROM "+MigrationsTable+
			" WHERE component = ?", component).Scan(&v)
	})
	return int(v), err
}
