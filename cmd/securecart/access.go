package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/server"
)

func newAccessCmd(g *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "access",
		Short: "Analyze what a policy set allows",
	}
	f.register(cmd)
	cmd.AddCommand(accessAnalyzeCmd(g, &f), accessCheckCmd(), accessUnusedCmd(g))
	return cmd
}

func accessAnalyzeCmd(g *globals, f *apiFlags) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "analyze [FILE]",
		Short: "Permission matrix and guardrail findings of a file (offline) or of the active set (API)",
		Long: "With FILE (\"default\" for the built-in set), analyzes it offline. Without, asks the\n" +
			"running deployment to analyze its active set (GET /v1/access/analysis).\n" +
			"Exits non-zero when a finding is blocking, as policy apply would refuse the set.",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var view server.AnalysisView
			if len(args) == 1 {
				s, err := loadPolicyFile(args[0])
				if err != nil {
					return err
				}
				if view.Report, err = analyze.Analyze(s); err != nil {
					return err
				}
			} else {
				c, err := f.client(g)
				if err != nil {
					return err
				}
				if err := c.Do(cmd.Context(), "GET", "/v1/access/analysis", nil, &view); err != nil {
					return err
				}
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(cmd, view); err != nil {
					return err
				}
			} else if err := writeAnalysis(out, view); err != nil {
				return err
			}
			if b := view.Blocking(); len(b) > 0 {
				return fmt.Errorf("%d blocking findings: policy apply would refuse this set", len(b))
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

func writeAnalysis(w io.Writer, v server.AnalysisView) error {
	fmt.Fprintf(w, "%d identity policies, %d resource policies; %d decisions\n\n",
		len(v.Identity), len(v.Resource), v.Decisions)
	analyze.WriteFindings(w, v.Findings)
	fmt.Fprintln(w)
	return v.Matrix.WriteTable(w)
}

func accessCheckCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check-no-new-access OLD NEW",
		Short: "Fail if NEW allows any cell of the permission matrix that OLD does not (offline, for CI)",
		Long: "Builds both matrices over the roles and networks either set names and lists every\n" +
			"(role, kind, action, resource, context) NEW allows and OLD does not. Exact over the\n" +
			"matrix; it does not cover attribute values outside the enumerated variants (other\n" +
			"source addresses, times, mTLS identities, principals with several roles, principals\n" +
			"or resources named by id): see the analyze package documentation.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			before, err := loadPolicyFile(args[0])
			if err != nil {
				return err
			}
			after, err := loadPolicyFile(args[1])
			if err != nil {
				return err
			}
			d, err := analyze.Compare(before, after)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			for _, c := range d.Added {
				fmt.Fprintf(out, "new access: %s\n", c)
			}
			if len(d.Added) > 0 {
				return fmt.Errorf("%s allows %d cells that %s does not", args[1], len(d.Added), args[0])
			}
			fmt.Fprintf(out, "no new access: %s allows nothing %s does not (%d cells removed)\n",
				args[1], args[0], len(d.Removed))
			return nil
		},
	}
}
