package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/server"
)

// The backup commands that act on a running deployment: they are API
// clients, so policy and the server's audit trail apply to them.

func newBackupRestoreRecordCmd(g *globals) *cobra.Command {
	var f apiFlags
	var asOf string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "restore-record customers/ID --as-of TIME",
		Short: "Bring one customer back into the live store as it was at TIME (an API client)",
		Long: "Bring one customer back into the live store as it was at TIME (RFC 3339, or a\n" +
			"duration ago such as -2h): the server restores its backups to TIME into a scratch\n" +
			"database and writes the customer found there over the live one, or inserts it\n" +
			"again if its row is gone. An erased customer stays erased. The request is\n" +
			"authorized and recorded in the audit trail like any other.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, _, err := backup.ParseRecord(args[0]); err != nil {
				return err
			}
			point, err := parsePoint(asOf, time.Now().UTC())
			if err != nil {
				return err
			}
			if point.IsZero() {
				return fmt.Errorf("--as-of: give a time, not latest: the live store is the latest")
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var res backup.RecordResult
			err = c.Do(cmd.Context(), "POST", "/v1/backups/restore-record",
				map[string]any{"record": args[0], "as_of": point.Format(time.RFC3339Nano)}, &res)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, res)
			}
			how := "overwrote the live record"
			if res.Created {
				how = "inserted it again (its row was gone)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %s/%s as of %s (backup position %d): %s; now version %d\n",
				res.Table, res.ID, res.AsOf.Format(time.RFC3339), res.Pos, how, res.Version)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&asOf, "as-of", "", "the point in time: RFC 3339, or a duration ago like -2h")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.MarkFlagRequired("as-of")
	return cmd
}

func newBackupStatusCmd(g *globals) *cobra.Command {
	var f apiFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a running deployment's shipping lag, restorable window and last verification (an API client)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var st server.BackupStatusView
			if err := c.Do(cmd.Context(), "GET", "/v1/backups/status", nil, &st); err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, st)
			}
			printStatus(cmd, st)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printStatus(cmd *cobra.Command, st server.BackupStatusView) {
	out := cmd.OutOrStdout()
	const ts = "2006-01-02 15:04:05Z"
	at := func(t *time.Time) string {
		if t == nil {
			return "never"
		}
		return t.UTC().Format(ts)
	}
	s := st.Shipping
	fmt.Fprintf(out, "deployment %s\n", st.Deployment)
	fmt.Fprintf(out, "shipping: position %d, lag %.1fs, last shipped %s\n", s.ShippedPosition, s.LagSeconds,
		at(s.LastShipped))
	if s.Failures > 0 {
		fmt.Fprintf(out, "  failing: %d attempts in a row: %s\n", s.Failures, s.LastError)
	}
	fmt.Fprintf(out, "last snapshot %s, last keystore snapshot %s\n", at(s.LastSnapshot), at(s.LastKeystore))
	w := st.Window
	fmt.Fprintf(out, "restorable window: %s to %s (%d snapshots, %d segments)\n", at(w.From), at(w.To),
		w.Snapshots, w.Segments)
	v := st.LastVerify
	switch {
	case v == nil:
		fmt.Fprintln(out, "last verification: never")
	case v.OK:
		fmt.Fprintf(out, "last verification: OK at %s, position %d, %.1fs\n", v.At.UTC().Format(ts), v.Pos, v.Elapsed)
	default:
		fmt.Fprintf(out, "last verification: FAILED at %s, position %d: %s\n", v.At.UTC().Format(ts), v.Pos, v.Error)
	}
}
