package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/objstore"
)

func newBackupCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "backup",
		Short: "List, take, restore and verify backups",
	}
	cmd.AddCommand(newBackupListCmd(g), newBackupSnapshotCmd(g), newBackupRestoreCmd(g), newBackupVerifyCmd(g),
		newBackupRestoreRecordCmd(g), newBackupStatusCmd(g))
	return cmd
}

// pickDeployment returns the flag's deployment, or the only one in storage.
func pickDeployment(ctx context.Context, obj objstore.Store, flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	deps, err := backup.Deployments(ctx, obj)
	if err != nil {
		return "", err
	}
	switch len(deps) {
	case 0:
		return "", fmt.Errorf("no backups in object storage")
	case 1:
		return deps[0], nil
	}
	return "", fmt.Errorf("backups of several deployments (%s): choose one with --deployment",
		strings.Join(deps, ", "))
}

func newBackupListCmd(g *globals) *cobra.Command {
	var dep string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "Show snapshots, segments and the restorable window",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			obj, err := deploy.OpenObjects(ctx, g.cfg)
			if err != nil {
				return err
			}
			if dep, err = pickDeployment(ctx, obj, dep); err != nil {
				return err
			}
			cat, err := backup.ReadCatalog(ctx, obj, dep)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, cat)
			}
			return printCatalog(cmd, cat)
		},
	}
	cmd.Flags().StringVar(&dep, "deployment", "", "deployment id (default: the only one in storage)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printCatalog(cmd *cobra.Command, cat *backup.Catalog) error {
	out := cmd.OutOrStdout()
	const ts = "2006-01-02 15:04:05Z"
	from, to := cat.Window()
	fmt.Fprintf(out, "deployment %s\n", cat.Deployment)
	if from.IsZero() {
		fmt.Fprintln(out, "restorable window: none (no complete snapshot)")
	} else {
		fmt.Fprintf(out, "restorable window: %s to %s\n", from.Format(ts), to.Format(ts))
	}
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "\nSNAPSHOT\tPOSITION\tTAKEN\tPARTS\tBYTES")
	for _, s := range cat.Snapshots {
		fmt.Fprintf(w, "%s\t%d\t%s\t%d\t%d\n", s.Dir, s.Pos, s.TakenAt.Format(ts), s.Parts, s.Bytes)
	}
	var bytes int64
	for _, s := range cat.Segments {
		bytes += s.Bytes
	}
	fmt.Fprintf(w, "\nsegments: %d, %d bytes", len(cat.Segments), bytes)
	if n := len(cat.Segments); n > 0 {
		fmt.Fprintf(w, ", positions %d to %d, last uploaded %s", cat.Segments[0].First, cat.Segments[n-1].Last,
			cat.Segments[n-1].Uploaded.Format(ts))
	}
	fmt.Fprintln(w)
	if n := len(cat.Keystores); n > 0 {
		fmt.Fprintf(w, "keystore snapshot: %s\n", cat.Keystores[n-1].Key)
	}
	if len(cat.Incomplete) > 0 {
		fmt.Fprintf(w, "interrupted snapshots (not used): %s\n", strings.Join(cat.Incomplete, ", "))
	}
	return w.Flush()
}

func newBackupSnapshotCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "snapshot",
		Short: "Ship pending changes and take a keystore snapshot and a data snapshot now",
		Long: "Ship pending changes and take a keystore snapshot and a data snapshot now.\n" +
			"It works on the data directory or database directly; a running server ships\n" +
			"and snapshots on its own schedule.",
		Args: cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			return recordLocal(cmd, d, audit.ActionSnapshot, backupsRes, func(ctx context.Context) error {
				return snapshot(ctx, cmd, g, d)
			})
		}),
	}
}

// snapshot ships pending changes and takes a keystore and a data snapshot.
func snapshot(ctx context.Context, cmd *cobra.Command, g *globals, d *deploy.Deployment) error {
	obj, err := deploy.OpenObjects(ctx, g.cfg)
	if err != nil {
		return err
	}
	sh, err := d.Shipper(ctx, obj, nil)
	if err != nil {
		return err
	}
	pos, err := sh.ShipOnce(ctx)
	if err != nil {
		return err
	}
	if err := sh.SnapshotKeystore(ctx); err != nil {
		return err
	}
	start := time.Now()
	info, err := sh.Snapshot(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "deployment %s: shipped up to %d; snapshot %s (%d parts, %d bytes) in %s\n",
		sh.Deployment(), pos, info.Dir, info.Parts, info.Bytes, time.Since(start).Round(time.Millisecond))
	return nil
}
