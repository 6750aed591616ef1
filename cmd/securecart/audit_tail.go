package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
)

func newAuditTailCmd(g *globals, af *auditFlags) *cobra.Command {
	var (
		lines  uint64
		follow bool
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "tail",
		Short: "Print the last records of the audit log and follow new ones",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r := audit.NewReader(af.path(g))
			var next uint64
			for _, err := range r.Scan(cmd.Context(), 0) {
				if err != nil {
					return err
				}
				next++
			}
			if next > lines {
				next -= lines
			} else {
				next = 0
			}
			first, err := firstSeq(cmd.Context(), af.path(g))
			if err != nil {
				return err
			}
			next = max(next, first)
			for {
				for e, err := range r.Scan(cmd.Context(), next) {
					if err != nil {
						return err
					}
					if err := printEntry(cmd.OutOrStdout(), e, asJSON); err != nil {
						return err
					}
					next = e.Seq + 1
				}
				if !follow {
					return nil
				}
				select {
				case <-cmd.Context().Done():
					return nil
				case <-time.After(200 * time.Millisecond):
				}
			}
		},
	}
	cmd.Flags().Uint64VarP(&lines, "lines", "n", 10, "records to print before following")
	cmd.Flags().BoolVarP(&follow, "follow", "f", true, "keep printing new records")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print each record as JSON")
	return cmd
}

// firstSeq returns the first record of the directory.
func firstSeq(ctx context.Context, dir string) (uint64, error) {
	for e, err := range audit.NewReader(dir).Scan(ctx, 0) {
		return e.Seq, err
	}
	return 0, nil
}

func printEntry(w io.Writer, e audit.Entry, asJSON bool) error {
	r := e.Record
	if asJSON {
		b, err := json.Marshal(struct {
			Seq uint64 `json:"seq"`
			*audit.Record
		}{e.Seq, r})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	outcome := "-"
	if r.Phase == audit.PhaseOutcome {
		outcome = fmt.Sprint(r.Outcome.Status)
		if r.Outcome.ErrorCode != "" {
			outcome += " " + r.Outcome.ErrorCode
		}
	}
	_, err := fmt.Fprintf(w, "%d %s %-7s %s(%s) %s %s/%s %s %s [%s]\n", e.Seq,
		r.Time.Format("2006-01-02T15:04:05.000Z"), r.Phase, r.Principal.ID, strings.Join(r.Principal.Roles, ","),
		r.Action, r.Resource.Type, r.Resource.ID, r.Decision.Effect, outcome, r.RequestID)
	return err
}
