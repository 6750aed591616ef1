package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
)

func newAuditVerifyCmd(g *globals, af *auditFlags) *cobra.Command {
	var from string
	var asJSON, fromArchive bool
	cmd := &cobra.Command{
		Use:   "verify",
		Short: "Recompute the Merkle tree from the segments and check every signed checkpoint",
		Long: `Verify recomputes the tree from the audit segments, checks each checkpoint's
signature and number, and compares the roots. It names the first bad position:
a record (edited, deleted, inserted, moved, cut off) or a checkpoint (forged,
deleted). With --from, a checkpoint kept elsewhere (a file holding the signed
note) must be in the directory and the log must extend it. With --from-archive,
the boundary the archiver stored in object storage when it last moved segments
off the node is trusted: the records must start where the archive ends, and
extend the checkpoint that covers that record.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			vs, err := af.verifiers(cmd, g)
			if err != nil {
				return err
			}
			var rep *audit.Report
			switch {
			case from != "" && fromArchive:
				return errors.New("--from and --from-archive exclude each other")
			case fromArchive:
				b, err := archiveBoundary(cmd, g, af)
				if err != nil {
					return err
				}
				rep, err = audit.VerifyOnline(af.path(g), vs, *b)
				if err != nil {
					return err
				}
			default:
				var trusted []byte
				if from != "" {
					if trusted, err = os.ReadFile(from); err != nil {
						return err
					}
				}
				if rep, err = audit.Verify(af.path(g), vs, trusted); err != nil {
					return err
				}
			}
			if asJSON {
				if err := printJSON(cmd, rep); err != nil {
					return err
				}
			} else {
				printReport(cmd, rep)
			}
			if !rep.OK() {
				return fmt.Errorf("audit log does not verify: %d problems, the first %s", len(rep.Problems), rep.Problems[0])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "file with a trusted signed checkpoint")
	cmd.Flags().BoolVar(&fromArchive, "from-archive", false,
		"trust the boundary checkpoint the archiver stored in object storage")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func printReport(cmd *cobra.Command, rep *audit.Report) {
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "records %d to %d: %d verified\n", rep.First, rep.First+rep.Records, rep.Records)
	fmt.Fprintf(w, "checkpoints: %d verified", rep.Checkpoints)
	if rep.Last.Number != 0 {
		fmt.Fprintf(w, ", the last number %d of %d records at %s", rep.Last.Number, rep.Last.Size,
			rep.Last.Time.Format("2006-01-02 15:04:05.000Z"))
	}
	fmt.Fprintln(w)
	for _, p := range rep.Problems {
		fmt.Fprintln(w, "problem:", p)
	}
	if rep.OK() {
		fmt.Fprintln(w, "ok")
	}
}

// archiveBoundary reads the archive boundary from object storage.
func archiveBoundary(cmd *cobra.Command, g *globals, af *auditFlags) (*audit.ArchiveBoundary, error) {
	origin, err := af.logOrigin(g)
	if err != nil {
		return nil, err
	}
	obj, err := deploy.OpenObjects(cmd.Context(), g.cfg)
	if err != nil {
		return nil, err
	}
	b, err := audit.Boundary(cmd.Context(), obj, origin)
	if err == nil && b == nil {
		err = errors.New("object storage holds no archive boundary: no segment was archived yet")
	}
	return b, err
}
