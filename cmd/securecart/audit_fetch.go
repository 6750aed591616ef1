package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
)

// Files audit fetch writes beside the log it fetched.
const (
	startFile    = "start.checkpoint"
	boundaryFile = "boundary.checkpoint"
)

func newAuditFetchCmd(g *globals, af *auditFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "fetch DIR",
		Short: "Copy the audit trail kept in object storage into DIR to verify it",
		Long: `Fetch reads the log's archived segments, the records shipped since, and every
shipped checkpoint from object storage, opens them with the keystore, and writes
them to DIR as an audit directory. Verify it with

  securecart audit verify --audit-dir DIR --from DIR/` + startFile + `

(the checkpoints before the first record kept may have passed retention).
DIR/` + boundaryFile + ` is the checkpoint the archiver stored when it last moved
segments off the node; audit verify --from-archive checks the node's records
from it.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			origin, err := af.logOrigin(g)
			if err != nil {
				return err
			}
			d, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			obj, err := deploy.OpenObjects(cmd.Context(), d.Config)
			if err != nil {
				return err
			}
			dir := args[0]
			got, err := audit.Fetch(cmd.Context(), obj, d.Keys, origin, dir)
			if err != nil {
				return err
			}
			files := map[string][]byte{startFile: got.Start}
			if got.Boundary != nil {
				files[boundaryFile] = got.Boundary.Checkpoint
			}
			for name, b := range files {
				if b == nil {
					continue
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "%d segments, records %d to %d; %d checkpoints\n",
				got.Segments, got.First, got.End, got.Checkpoints)
			if got.Start != nil {
				fmt.Fprintf(w, "verify with: securecart audit verify --audit-dir %s --from %s\n",
					dir, filepath.Join(dir, startFile))
			}
			return nil
		},
	}
}
