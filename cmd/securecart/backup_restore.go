package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/postgres"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
)

// parsePoint reads --to: "latest", an RFC 3339 time, or a duration ago
// such as "-90m".
func parsePoint(s string, now time.Time) (time.Time, error) {
	switch {
	case s == "latest":
		return time.Time{}, nil
	case strings.HasPrefix(s, "-"):
		d, err := time.ParseDuration(s[1:])
		if err != nil {
			return time.Time{}, fmt.Errorf("--to %q: %w", s, err)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("--to %q: want latest, an RFC 3339 time or a duration ago like -1h", s)
	}
	return t.UTC(), nil
}

// openTarget opens the new database a restore writes: a PostgreSQL DSN,
// or a folder that gets a new SQLite file.
func openTarget(ctx context.Context, into string) (sqldb.DB, string, error) {
	c := config.Config{Database: into}
	if c.IsPostgres() {
		db, err := postgres.Open(ctx, into)
		return db, "the PostgreSQL database", err
	}
	path := filepath.Join(into, "securecart.db")
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("%s already exists: restore into a new folder: %w", path, backup.ErrTargetExists)
	}
	if err := os.MkdirAll(into, 0o700); err != nil {
		return nil, "", err
	}
	db, err := sqlite.Open(ctx, path, sqlite.Options{})
	return db, path, err
}

func (g *globals) providerFor(db sqldb.DB) (keys.Provider, error) {
	return deploy.Provider(g.cfg, db, deploy.Options{
		Getenv:     os.Getenv,
		Passphrase: func() ([]byte, error) { return readSecret("Root key passphrase: ") },
	})
}

func newBackupRestoreCmd(g *globals) *cobra.Command {
	var to, into, dep string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore --to TIME|latest --into DIR|DSN",
		Short: "Build a new database from the backups, as it was at a point in time",
		Long: "Build a new database from the backups, as it was at TIME (RFC 3339, or a\n" +
			"duration ago such as -2h) or at the latest shipped change. The target is a\n" +
			"new folder (SQLite) or an empty PostgreSQL database; the live database is\n" +
			"never touched. The root key that protected the backups must be available\n" +
			"through the configured provider. The restore is recorded in the audit trail of\n" +
			"the deployment the flags name (one is created if there is none); it refuses\n" +
			"while a server holds that trail.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			point, err := parsePoint(to, time.Now().UTC())
			if err != nil {
				return err
			}
			// The restore is recorded in the trail of the deployment the
			// flags name, created if there is none; opening one would make
			// a new root key where none was imported.
			if err := rootKeyInPlace(g.cfg); err != nil {
				return err
			}
			obj, err := deploy.OpenObjects(ctx, g.cfg)
			if err != nil {
				return err
			}
			if dep, err = pickDeployment(ctx, obj, dep); err != nil {
				return err
			}
			d, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer d.Close()
			var sum backup.Summary
			var where string
			err = recordLocal(cmd, d, audit.ActionRestore, audit.Resource{Type: "Backup", ID: dep},
				func(ctx context.Context) error {
					var err error
					sum, where, err = restore(ctx, cmd, g, obj, dep, point, into)
					return err
				})
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, sum)
			}
			printSummary(cmd, sum, where)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&to, "to", "", "point to restore: latest, an RFC 3339 time, or a duration ago like -2h")
	f.StringVar(&into, "into", "", "new folder (SQLite) or PostgreSQL DSN to restore into")
	f.StringVar(&dep, "deployment", "", "deployment id (default: the only one in storage)")
	f.BoolVar(&asJSON, "json", false, "print the summary as JSON")
	cmd.MarkFlagRequired("to")
	cmd.MarkFlagRequired("into")
	return cmd
}

// rootKeyInPlace refuses when the root key file is configured but absent.
func rootKeyInPlace(cfg config.Config) error {
	if cfg.RootKeyProvider != config.ProviderFile {
		return nil
	}
	if _, err := os.Stat(cfg.KeyFile()); errors.Is(err, fs.ErrNotExist) {
		return &keys.HintedError{Err: fmt.Errorf("no root key at %s", cfg.KeyFile()),
			Hint: "put the root key that protected the backups in place first (securecart keys import-root)"}
	}
	return nil
}

// restore builds a new database at into from dep's backups as they were
// at point, and says where it is.
func restore(ctx context.Context, cmd *cobra.Command, g *globals, obj objstore.Store, dep string,
	point time.Time, into string) (backup.Summary, string, error) {
	db, where, err := openTarget(ctx, into)
	if err != nil {
		return backup.Summary{}, "", err
	}
	defer db.Close()
	var bar *progressbar.ProgressBar
	sum, err := backup.Restore(ctx, backup.RestoreOptions{
		Objects: obj, Deployment: dep, To: point, Target: db, Provider: g.providerFor,
		Progress: func(done, total int64) {
			if bar == nil {
				bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
					progressbar.OptionSetDescription("restore"), progressbar.OptionShowCount())
			}
			bar.Set64(done)
		},
	})
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	return sum, where, err
}

func printSummary(cmd *cobra.Command, s backup.Summary, where string) {
	out := cmd.OutOrStdout()
	const ts = "2006-01-02 15:04:05.000000Z"
	fmt.Fprintf(out, "restored deployment %s into %s in %s\n", s.Deployment, where, s.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "  snapshot      %s (position %d)\n", s.Snapshot, s.SnapshotPos)
	fmt.Fprintf(out, "  changes       %d from %d segments\n", s.Changes, s.Segments)
	fmt.Fprintf(out, "  reached       position %d, last change committed %s\n", s.Pos, s.LastChange.Format(ts))
	fmt.Fprintf(out, "  keystore      %s\n", s.Keystore)
	tables := make([]string, 0, len(s.Rows))
	for t := range s.Rows {
		tables = append(tables, t)
	}
	sort.Strings(tables)
	for _, t := range tables {
		fmt.Fprintf(out, "  %-13s %d rows\n", t, s.Rows[t])
	}
}

func newBackupVerifyCmd(g *globals) *cobra.Command {
	var wait time.Duration
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Restore the latest point into a scratch database and compare it with the live store",
		Args:  cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			var res backup.VerifyResult
			err := recordLocal(cmd, d, audit.ActionVerifyBackup, backupsRes, func(ctx context.Context) error {
				var err error
				res, err = verifyBackups(ctx, g, d, wait)
				return err
			})
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(cmd, res); err != nil {
					return err
				}
			} else {
				printVerify(cmd, res)
			}
			if !res.OK {
				return errors.New("backup verification failed: the restore differs from the live store")
			}
			return nil
		}),
	}
	cmd.Flags().DurationVar(&wait, "wait", 30*time.Second, "how long to wait for the backups to reach the live position")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// verifyBackups restores the latest point into a scratch database and
// compares it with the live store.
func verifyBackups(ctx context.Context, g *globals, d *deploy.Deployment, wait time.Duration) (backup.VerifyResult, error) {
	obj, err := deploy.OpenObjects(ctx, g.cfg)
	if err != nil {
		return backup.VerifyResult{}, err
	}
	dep, err := backup.DeploymentID(ctx, d.DB)
	if err != nil {
		return backup.VerifyResult{}, err
	}
	dir, err := os.MkdirTemp("", "securecart-verify-")
	if err != nil {
		return backup.VerifyResult{}, err
	}
	defer os.RemoveAll(dir)
	scratch, _, err := openTarget(ctx, dir)
	if err != nil {
		return backup.VerifyResult{}, err
	}
	defer scratch.Close()
	return backup.Verify(ctx, d.DB, backup.RestoreOptions{Objects: obj, Deployment: dep,
		Target: scratch, Provider: g.providerFor}, wait)
}

func printVerify(cmd *cobra.Command, r backup.VerifyResult) {
	out := cmd.OutOrStdout()
	verdict := "OK"
	if !r.OK {
		verdict = "MISMATCH"
	}
	fmt.Fprintf(out, "verify at position %d: %s (restore took %s)\n", r.Pos, verdict,
		r.Restore.Elapsed.Round(time.Millisecond))
	for _, t := range r.Tables {
		mark := "match"
		if !t.Match {
			mark = "DIFFERS"
		}
		fmt.Fprintf(out, "  %-10s live %d rows, restored %d rows, sha256 %s..., %s\n", t.Table, t.LiveRows,
			t.RestoredRows, t.LiveSHA256[:16], mark)
	}
}
