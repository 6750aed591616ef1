package main

import (
	"bufio"
	"errors"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
)

func newAuditExportCmd(g *globals, af *auditFlags) *cobra.Command {
	var (
		ocsf         bool
		since, until string
	)
	cmd := &cobra.Command{
		Use:   "export --ocsf",
		Short: "Write the audit records as OCSF API Activity (class 6003) JSON lines",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !ocsf {
				return errors.New("name the format: --ocsf")
			}
			var f audit.Filter
			var err error
			if since != "" {
				if f.Since, err = time.Parse(time.RFC3339, since); err != nil {
					return err
				}
			}
			if until != "" {
				if f.Until, err = time.Parse(time.RFC3339, until); err != nil {
					return err
				}
			}
			w := bufio.NewWriter(cmd.OutOrStdout())
			for e, err := range audit.NewReader(af.path(g)).Scan(cmd.Context(), 0) {
				if err != nil {
					return err
				}
				if !f.Match(e.Record) {
					continue
				}
				b, err := audit.MarshalOCSF(e)
				if err != nil {
					return err
				}
				w.Write(b)
				w.WriteByte('\n')
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&ocsf, "ocsf", false, "OCSF JSON lines (the only format)")
	cmd.Flags().StringVar(&since, "since", "", "only records at or after this RFC 3339 time")
	cmd.Flags().StringVar(&until, "until", "", "only records before this RFC 3339 time")
	return cmd
}
