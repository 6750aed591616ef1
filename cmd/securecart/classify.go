package main

import (
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/classify"
)

func newClassifyCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:               "classify",
		Short:             "Print the data map: every stored field, its class, protection and key domain",
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			fields := classify.Fields()
			if asJSON {
				type row struct {
					classify.Field
					Class      string `json:"class"`
					Protection string `json:"protection"`
				}
				rows := make([]row, len(fields))
				for i, f := range fields {
					rows[i] = row{f, f.Class.String(), f.Protection.String()}
				}
				return printJSON(cmd, rows)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "FIELD\tCLASS\tPROTECTION\tKEY DOMAIN\tDESCRIPTION")
			for _, f := range fields {
				dom := f.KeyDomain
				if dom == "" {
					dom = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", f.Name(), f.Class, f.Protection, dom, f.Description)
			}
			return w.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}
