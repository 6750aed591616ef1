package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/identity"
)

func newAdminCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Break-glass operations for the local operator (reads the data directory; needs the root key)",
	}
	recoverCmd := &cobra.Command{
		Use:   "recover",
		Short: "Unlock every admin and print a one-hour key that can only enrol a new admin",
		Long: "recover restores a way in when every admin is locked out or lost. It clears the\n" +
			"lockout of every admin person and gives the bootstrap principal a new key, valid\n" +
			"for one hour, that can only create and enrol an admin person; enrolling one\n" +
			"revokes it. It opens the deployment directly, so it needs the root key, and it\n" +
			"records itself in the audit trail before it changes anything.",
		Args: cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			r, err := recoverAudited(cmd, d)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(r.Unlocked) > 0 {
				fmt.Fprintf(out, "unlocked: %s\n", strings.Join(r.Unlocked, ", "))
			} else {
				fmt.Fprintln(out, "no admin was locked")
			}
			fmt.Fprintf(out, "Enrolment key for %s, valid until %s (shown once):\n  %s\n",
				r.Bootstrap, r.KeyInfo.ExpiresAt.Format("2006-01-02 15:04 MST"), r.Key.Reveal())
			return nil
		}),
	}
	cmd.AddCommand(recoverCmd)
	return cmd
}

// recoverAudited runs the recovery recorded in the deployment's audit
// trail: only once the request record is durable, then the outcome.
func recoverAudited(cmd *cobra.Command, d *deploy.Deployment) (*identity.Recovery, error) {
	var r *identity.Recovery
	err := recordLocal(cmd, d, audit.ActionAdminRecover, audit.Resource{Type: "Collection", ID: "principals"},
		func(ctx context.Context) error {
			var err error
			r, err = d.Identity.Recover(ctx)
			return err
		})
	return r, err
}
