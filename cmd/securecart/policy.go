package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/analyze"
	"github.com/securecart/securecart/internal/policy/cases"
	"github.com/securecart/securecart/internal/server"
)

// defaultSetName stands, where a policy file is expected, for the
// built-in default set.
const defaultSetName = "default"

// readPolicyFile reads a policy set file, or the default set.
func readPolicyFile(path string) ([]byte, error) {
	if path == defaultSetName {
		return policy.DefaultPolicies(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, policy.MaxSourceBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return src, nil
}

// loadPolicyFile reads and validates a policy set file.
func loadPolicyFile(path string) (*policy.Set, error) {
	src, err := readPolicyFile(path)
	if err != nil {
		return nil, err
	}
	s, err := policy.Load(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func newPolicyCmd(g *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Validate, test and compare policy sets; apply and roll back on a running deployment",
		Long: "validate, test and diff work offline on files (\"default\" names the built-in set).\n" +
			"list, show, check, apply and rollback are API clients of a running deployment.",
	}
	f.register(cmd)
	cmd.AddCommand(policyValidateCmd(), policyTestCmd(), policyDiffCmd(),
		policyListCmd(g, &f), policyShowCmd(g, &f), policyCheckCmd(g, &f), policyApplyCmd(g, &f),
		policyRollbackCmd(g, &f))
	return cmd
}

func policyValidateCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "validate FILE",
		Short: "Parse a policy set and validate it against the schema (offline)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := loadPolicyFile(args[0])
			if err != nil {
				return err
			}
			res := 0
			for _, p := range s.Policies {
				if p.Attached != "" {
					res++
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: valid: %d identity policies, %d resource policies\n",
				args[0], len(s.Policies)-res, res)
			return nil
		},
	}
}

func policyTestCmd() *cobra.Command {
	var file string
	cmd := &cobra.Command{
		Use:   "test CASES.yaml",
		Short: "Decide each case of a YAML file and fail on any unexpected decision (offline)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			cf, err := cases.Parse(data)
			if err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			path := file
			if path == "" && cf.Policies != "" {
				path = filepath.Join(filepath.Dir(args[0]), cf.Policies)
			}
			if path == "" {
				path = defaultSetName
			}
			s, err := loadPolicyFile(path)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			failed := 0
			for i, r := range cases.Run(s.Engine, cf) {
				if r.Problem != "" {
					failed++
					fmt.Fprintf(out, "FAIL case %d (%s): %s\n", i+1, r.Case.Name, r.Problem)
				}
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d cases failed against %s", failed, len(cf.Cases), path)
			}
			fmt.Fprintf(out, "ok: %d cases against %s\n", len(cf.Cases), path)
			return nil
		},
	}
	cmd.Flags().StringVar(&file, "policies", "",
		"policy set to test (default: the file's policies key, else the built-in set)")
	return cmd
}

func policyDiffCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Show the policies and the permission cells that change from OLD to NEW (offline)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			before, err := loadPolicyFile(args[0])
			if err != nil {
				return err
			}
			after, err := loadPolicyFile(args[1])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			added, removed, changed := analyze.PolicyChanges(before, after)
			for _, l := range []struct {
				mark string
				ids  []string
			}{{"+", added}, {"-", removed}, {"~", changed}} {
				for _, id := range l.ids {
					fmt.Fprintf(out, "%s policy %s\n", l.mark, id)
				}
			}
			d, err := analyze.Compare(before, after)
			if err != nil {
				return err
			}
			for _, c := range d.Added {
				fmt.Fprintf(out, "+ allow %s\n", c)
			}
			for _, c := range d.Removed {
				fmt.Fprintf(out, "- allow %s\n", c)
			}
			fmt.Fprintf(out, "%d policies added, %d removed, %d changed; %d cells newly allowed, %d newly denied\n",
				len(added), len(removed), len(changed), len(d.Added), len(d.Removed))
			return nil
		},
	}
}

func policyListCmd(g *globals, f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the versions of the policy set",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var page server.Page[server.PolicyVersionView]
			if err := c.Do(cmd.Context(), "GET", "/v1/policies", nil, &page); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "VERSION\tACTIVE\tCREATED\tBY\tSHA256\tNOTE")
			for _, v := range page.Items {
				active, created := "", ""
				if v.Active {
					active = "*"
				}
				if !v.CreatedAt.IsZero() {
					created = v.CreatedAt.Format("2006-01-02 15:04:05")
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%.12s\t%s\n", v.Number, active, created, v.CreatedBy, v.Digest, v.Note)
			}
			return w.Flush()
		},
	}
}

func policyShowCmd(g *globals, f *apiFlags) *cobra.Command {
	var source bool
	cmd := &cobra.Command{
		Use:   "show [VERSION]",
		Short: "Show a version of the policy set (default: the active one), resource policies apart",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			n, err := versionArg(cmd, c, args)
			if err != nil {
				return err
			}
			var v server.PolicyVersionView
			if err := c.Do(cmd.Context(), "GET", "/v1/policies/"+strconv.FormatInt(n, 10), nil, &v); err != nil {
				return err
			}
			writeVersion(cmd.OutOrStdout(), v, source)
			return nil
		},
	}
	cmd.Flags().BoolVar(&source, "source", false, "print the Cedar text too")
	return cmd
}

// versionArg is the version named on the command line, or the active one.
func versionArg(cmd *cobra.Command, c *client.Client, args []string) (int64, error) {
	if len(args) == 1 {
		n, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("version %q: want a number, 0 for the default set", args[0])
		}
		return n, nil
	}
	var page server.Page[server.PolicyVersionView]
	if err := c.Do(cmd.Context(), "GET", "/v1/policies", nil, &page); err != nil {
		return 0, err
	}
	for _, v := range page.Items {
		if v.Active {
			return v.Number, nil
		}
	}
	return 0, errors.New("the deployment reports no active policy set")
}

func writeVersion(w io.Writer, v server.PolicyVersionView, source bool) {
	state := ""
	if v.Active {
		state = " (active)"
	}
	fmt.Fprintf(w, "version %d%s, sha256 %s, by %s", v.Number, state, v.Digest, v.CreatedBy)
	if !v.CreatedAt.IsZero() {
		fmt.Fprintf(w, " at %s", v.CreatedAt.Format("2006-01-02 15:04:05Z07:00"))
	}
	fmt.Fprintln(w)
	if v.Note != "" {
		fmt.Fprintf(w, "note: %s\n", v.Note)
	}
	for _, part := range []struct {
		title    string
		resource bool
	}{{"Identity policies", false}, {"Resource policies", true}} {
		fmt.Fprintf(w, "\n%s:\n", part.title)
		for _, p := range v.Policies {
			if (p.Attached != "") != part.resource {
				continue
			}
			effect := "permit"
			if p.Forbid {
				effect = "forbid"
			}
			on := ""
			if p.Attached != "" {
				on = " on collection " + p.Attached
			}
			fmt.Fprintf(w, "  %-6s %s%s (line %d)\n", effect, p.ID, on, p.Line)
		}
	}
	if source {
		fmt.Fprintf(w, "\n%s", v.Source)
	}
}

func policyCheckCmd(g *globals, f *apiFlags) *cobra.Command {
	var casesFile string
	var against int64
	cmd := &cobra.Command{
		Use:   "check FILE",
		Short: "Have the deployment validate, analyze, diff and test a policy set, applying nothing",
		Long: "check sends FILE to the running deployment, which validates it, reports the guardrails it\n" +
			"breaks, compares it with the active version (or --against) and decides the cases of --cases.\n" +
			"It fails when a case fails or when policy apply would refuse the set.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := readPolicyFile(args[0])
			if err != nil {
				return err
			}
			in := map[string]any{"source": string(src)}
			if casesFile != "" {
				data, err := os.ReadFile(casesFile)
				if err != nil {
					return err
				}
				in["cases"] = string(data)
			}
			if cmd.Flags().Changed("against") {
				in["against"] = against
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var v server.PolicyCheckView
			if err := c.Do(cmd.Context(), "POST", "/v1/policies/check", in, &v); err != nil {
				return err
			}
			return writeCheck(cmd.OutOrStdout(), args[0], v)
		},
	}
	cmd.Flags().StringVar(&casesFile, "cases", "", "a cases file (YAML) to decide against the set")
	cmd.Flags().Int64Var(&against, "against", 0, "the stored version to compare with (default: the active one)")
	return cmd
}

func writeCheck(w io.Writer, name string, v server.PolicyCheckView) error {
	fmt.Fprintf(w, "%s: valid: %d policies; compared with version %d\n", name, len(v.Policies), v.Against)
	for _, l := range []struct {
		mark string
		ids  []string
	}{{"+", v.Changes.Added}, {"-", v.Changes.Removed}, {"~", v.Changes.Changed}} {
		for _, id := range l.ids {
			fmt.Fprintf(w, "%s policy %s\n", l.mark, id)
		}
	}
	for _, c := range v.Cells.Added {
		fmt.Fprintf(w, "+ allow %s\n", c)
	}
	for _, c := range v.Cells.Removed {
		fmt.Fprintf(w, "- allow %s\n", c)
	}
	if len(v.Findings) > 0 {
		fmt.Fprintln(w, "Guardrail findings:")
		analyze.WriteFindings(w, v.Findings)
	}
	for i, r := range v.Cases {
		if r.Problem != "" {
			fmt.Fprintf(w, "FAIL case %d (%s): %s\n", i+1, r.Name, r.Problem)
		}
	}
	var errs []error
	if v.Failed > 0 {
		errs = append(errs, fmt.Errorf("%d of %d cases failed", v.Failed, len(v.Cases)))
	} else if len(v.Cases) > 0 {
		fmt.Fprintf(w, "ok: %d cases\n", len(v.Cases))
	}
	if v.Blocking {
		errs = append(errs, errors.New("the set breaks a blocking guardrail: policy apply would refuse it"))
	}
	return errors.Join(errs...)
}

func policyApplyCmd(g *globals, f *apiFlags) *cobra.Command {
	var note string
	cmd := &cobra.Command{
		Use:   "apply FILE",
		Short: "Validate a policy set locally, then make it the active version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			src, err := readPolicyFile(args[0])
			if err != nil {
				return err
			}
			if _, err := policy.Load(src); err != nil {
				return fmt.Errorf("%s: %w", args[0], err)
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var v server.AppliedView
			in := map[string]string{"source": string(src), "note": note}
			if err := c.Do(cmd.Context(), "POST", "/v1/policies", in, &v); err != nil {
				return err
			}
			return writeApplied(cmd.OutOrStdout(), v)
		},
	}
	cmd.Flags().StringVar(&note, "note", "", "why the set changes, stored with the version")
	return cmd
}

func policyRollbackCmd(g *globals, f *apiFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "rollback VERSION",
		Short: "Make an earlier version active again (stored as a new version; 0 is the default set)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			n, err := versionArg(cmd, c, args)
			if err != nil {
				return err
			}
			var v server.AppliedView
			path := "/v1/policies/" + strconv.FormatInt(n, 10) + "/rollback"
			if err := c.Do(cmd.Context(), "POST", path, nil, &v); err != nil {
				return err
			}
			return writeApplied(cmd.OutOrStdout(), v)
		},
	}
}

func writeApplied(w io.Writer, v server.AppliedView) error {
	fmt.Fprintf(w, "version %d is active (sha256 %s)\n", v.Number, v.Digest)
	if len(v.Findings) > 0 {
		fmt.Fprintln(w, "Guardrail findings that did not block it:")
		analyze.WriteFindings(w, v.Findings)
	}
	return nil
}
