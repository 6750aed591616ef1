package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/deploy"
)

func newAuditPubkeyCmd(g *globals, af *auditFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "pubkey",
		Short: "Print the checkpoint verifier keys (public), newest first",
		Long: `Pubkey prints the signed-note verifier key of every live audit-signing key
version, newest first. Give it to whoever checks proofs or checkpoints
(audit verify-proof --key). It never prints private key material.`,
		Args: cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			origin, err := af.logOrigin(g)
			if err != nil {
				return err
			}
			vkeys, err := d.Keys.AuditVerifierKeys(origin)
			if err != nil {
				return err
			}
			for _, k := range vkeys {
				fmt.Fprintln(cmd.OutOrStdout(), k)
			}
			return nil
		}),
	}
}
