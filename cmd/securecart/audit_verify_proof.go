package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
)

func newAuditVerifyProofCmd(af *auditFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "verify-proof FILE --key PUBKEY",
		Short: "Check an inclusion or consistency proof offline, with only the verifier key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := parseVerifiers(af.keys)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			p, err := audit.ParseProof(b)
			if err != nil {
				return err
			}
			cp, err := p.Verify(vs...)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			switch p.Kind {
			case audit.KindInclusion:
				fmt.Fprintf(w, "ok: record %d is in %s at tree size %d (checkpoint %d, %s)\n",
					p.Index, cp.Origin, cp.Size, cp.Number, cp.Time.Format("2006-01-02 15:04:05Z"))
			default:
				fmt.Fprintf(w, "ok: %s at tree size %d (checkpoint %d) extends the older checkpoint\n",
					cp.Origin, cp.Size, cp.Number)
			}
			return nil
		},
	}
}
