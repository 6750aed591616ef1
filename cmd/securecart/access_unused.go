package main

import (
	"context"
	"fmt"
	"iter"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/policy/versions"
)

// maxUnusedDays bounds --days: the trail keeps a year.
const maxUnusedDays = 366

func accessUnusedCmd(g *globals) *cobra.Command {
	var (
		days     int
		file     string
		auditDir string
		asJSON   bool
	)
	cmd := &cobra.Command{
		Use:   "unused --days N",
		Short: "List the grants of the permission matrix no principal exercised in the last N days",
		Long: "Reads the audit trail of the last N days and lists each grant (role, action,\n" +
			"resource type) of the active policy set's permission matrix that no allowed request\n" +
			"used. It reads the trail's segment files and the policy set from the database\n" +
			"directly, taking no lock, so it runs beside a running server (on the host, as the\n" +
			"local operator; no root key needed). On a cluster, each node keeps its own trail:\n" +
			"run it with each node's --audit-dir and keep only the grants every node lists.\n" +
			"--policy FILE (\"default\" for the built-in set) analyzes a file instead of the\n" +
			"active set.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if days < 1 || days > maxUnusedDays {
				return fmt.Errorf("--days %d: between 1 and %d", days, maxUnusedDays)
			}
			ctx := cmd.Context()
			set, err := unusedPolicySet(ctx, g, file)
			if err != nil {
				return err
			}
			m, err := analyze.Build(set, nil, nil)
			if err != nil {
				return err
			}
			dir := auditDir
			if dir == "" {
				dir = filepath.Join(g.cfg.DataDir, audit.DirName)
			}
			since := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
			r := audit.NewReader(dir)
			from, err := trailStart(ctx, r)
			if err != nil {
				return fmt.Errorf("read the audit trail in %s: %w", dir, err)
			}
			var readErr error
			u := analyze.Exercised(set, m, trailUses(ctx, r, since, &readErr))
			if readErr != nil {
				return fmt.Errorf("read the audit trail in %s: %w", dir, readErr)
			}
			// Segments older than the online window may have moved to
			// object storage: say when the trail read starts late.
			partial := from.After(since)
			if asJSON {
				return printJSON(cmd, struct {
					Days      int       `json:"days"`
					Since     time.Time `json:"since"`
					TrailFrom time.Time `json:"trail_from,omitzero"`
					Partial   bool      `json:"partial"`
					analyze.Usage
				}{days, since.UTC(), from, partial, u})
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "since %s (%d days):\n", since.UTC().Format(time.RFC3339), days)
			if partial {
				fmt.Fprintf(out, "note: the trail in %s starts at %s, after the window starts: grants used only\n"+
					"before then are listed as unused (older segments may be in object storage: audit fetch)\n",
					dir, from.Format(time.RFC3339))
			}
			return analyze.WriteUnused(out, u)
		},
	}
	f := cmd.Flags()
	f.IntVar(&days, "days", 90, "how many days of the trail to read")
	f.StringVar(&file, "policy", "", `policy set file to analyze, or "default" (default: the active set)`)
	f.StringVar(&auditDir, "audit-dir", "", "audit log directory (default DATA_DIR/audit)")
	f.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// unusedPolicySet is the set file given, or the deployment's active set.
func unusedPolicySet(ctx context.Context, g *globals, file string) (*policy.Set, error) {
	if file != "" {
		return loadPolicyFile(file)
	}
	db, err := deploy.OpenDB(ctx, g.cfg)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	pv, err := versions.Open(ctx, db)
	if err != nil {
		return nil, err
	}
	_, set := pv.Live().Active()
	if set == nil {
		return nil, fmt.Errorf("no active policy set")
	}
	return set, nil
}

// trailStart is the time of the first record in the trail r reads, zero
// for an empty trail.
func trailStart(ctx context.Context, r *audit.Reader) (time.Time, error) {
	for e, err := range r.Scan(ctx, 0) {
		if err != nil {
			return time.Time{}, err
		}
		return e.Record.Time.UTC(), nil
	}
	return time.Time{}, nil
}

// trailUses yields the records of allowed requests from since on; a read
// error ends them and is left in *errp.
func trailUses(ctx context.Context, r *audit.Reader, since time.Time, errp *error) iter.Seq[analyze.Use] {
	return func(yield func(analyze.Use) bool) {
		cursor := ""
		for {
			page, err := r.Query(ctx, audit.Filter{Since: since}, cursor, 1000)
			if err != nil {
				*errp = err
				return
			}
			for _, e := range page.Entries {
				rec := e.Record
				if rec.Decision.Effect != audit.EffectAllow {
					continue
				}
				if !yield(analyze.Use{Roles: rec.Principal.Roles, Action: rec.Action, ResourceType: rec.Resource.Type,
					ResourceID: rec.Resource.ID, Policies: rec.Decision.Policies, Fields: rec.Fields}) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			cursor = page.Next
		}
	}
}
