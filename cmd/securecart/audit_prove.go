package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
)

func newAuditProveCmd(g *globals, af *auditFlags) *cobra.Command {
	var number uint64
	cmd := &cobra.Command{
		Use:   "prove SEQ",
		Short: "Print the inclusion proof of record SEQ against the latest checkpoint (JSON)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			seq, err := strconv.ParseUint(args[0], 10, 64)
			if err != nil {
				return fmt.Errorf("record number %q: %w", args[0], err)
			}
			cps, err := audit.ReadCheckpoints(af.path(g))
			if err != nil {
				return err
			}
			cp, err := pickCheckpoint(cps, number, seq)
			if err != nil {
				return err
			}
			p, err := audit.ProveInclusion(af.path(g), seq, cp)
			if err != nil {
				return err
			}
			return printJSON(cmd, p)
		},
	}
	cmd.Flags().Uint64Var(&number, "checkpoint", 0, "prove against this checkpoint number (default: the latest)")
	return cmd
}

// pickCheckpoint returns checkpoint number, or the latest if number is 0;
// it must cover record seq.
func pickCheckpoint(cps []audit.SignedCheckpoint, number, seq uint64) (audit.SignedCheckpoint, error) {
	for i := len(cps) - 1; i >= 0; i-- {
		if number == 0 || cps[i].Number == number {
			if cps[i].Size <= seq {
				return audit.SignedCheckpoint{}, fmt.Errorf("record %d is after checkpoint %d (%d records); "+
					"wait for the next checkpoint", seq, cps[i].Number, cps[i].Size)
			}
			return cps[i], nil
		}
	}
	return audit.SignedCheckpoint{}, fmt.Errorf("no checkpoint %d in the audit directory", number)
}
