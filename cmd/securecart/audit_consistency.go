package main

import (
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
)

func newAuditConsistencyCmd(g *globals, af *auditFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "consistency A B",
		Short: "Print the proof that the tree of B records extends the tree of A records (JSON)",
		Long: `Consistency proves that the log at tree size B contains the log at tree size A
unchanged. A and B must be sizes of checkpoints in the directory, whose signed
notes the proof carries.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			cps, err := audit.ReadCheckpoints(af.path(g))
			if err != nil {
				return err
			}
			var pair [2]audit.SignedCheckpoint
			for i, a := range args {
				size, err := strconv.ParseUint(a, 10, 64)
				if err != nil {
					return fmt.Errorf("tree size %q: %w", a, err)
				}
				if pair[i], err = checkpointOfSize(cps, size); err != nil {
					return err
				}
			}
			p, err := audit.ProveConsistency(af.path(g), pair[0], pair[1])
			if err != nil {
				return err
			}
			return printJSON(cmd, p)
		},
	}
}

func checkpointOfSize(cps []audit.SignedCheckpoint, size uint64) (audit.SignedCheckpoint, error) {
	for _, c := range cps {
		if c.Size == size {
			return c, nil
		}
	}
	return audit.SignedCheckpoint{}, fmt.Errorf("no checkpoint of tree size %d in the audit directory", size)
}
