package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/server"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the key hierarchy (root key, key-encryption keys, data keys)",
	}
	var f apiFlags
	cmd.AddCommand(newKeysListCmd(g), newKeysRotateCmd(g, &f), newKeysRewrapCmd(g, &f), newKeysDestroyCmd(g, &f),
		newKeysBackupCmd(g), newKeysExportRootCmd(g), newKeysImportRootCmd(g), newKeysRotateRootCmd(g))
	return cmd
}

func newKeysListCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List key domains, versions, states, ages and seal counts (never key material)",
		Args:  cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			infos, err := d.Keys.List(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(cmd, infos)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "DOMAIN\tVERSION\tSTATE\tCREATED\tAGE\tDATA KEYS\tSEALS RESERVED")
			for _, k := range infos {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%d\t%d\n", k.Domain, k.Version, k.State,
					k.Created.Format("2006-01-02 15:04:05Z"), k.Age, k.DataKeys, k.Seals)
			}
			return w.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func domainArg(s string) (envelope.Domain, error) {
	d, err := envelope.ParseDomain(s)
	if err != nil {
		return 0, fmt.Errorf("%w (domains: customer-pii, payment-card, orders, backup, blind-index, audit-signing)", err)
	}
	return d, nil
}

// How the key commands reach a deployment
//
// rotate, rewrap and destroy change a running deployment, so they are
// API clients: they act with the caller's key (an admin, a person only
// when signed in with MFA), and the server decides and records each
// request. list and backup read the database directly, and the root key
// commands (rotate-root, export-root, import-root) need the root key on
// this host: they run as the local operator.

func newKeysRotateCmd(g *globals, f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate DOMAIN",
		Short: "Add a key-encryption key version; new writes use it, old data stays readable (an API client)",
		Long: "Add a key-encryption key version; new writes use it, old data stays readable. " +
			"Rotating blind-index also re-computes the customers' email tokens (as keys rewrap does).",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dom, err := domainArg(args[0])
			if err != nil {
				return err
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var out server.RotateView
			if err := c.Do(cmd.Context(), "POST", "/v1/keys/"+dom.String()+"/rotate", nil, &out); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: version %d is active\n", out.Domain, out.Version)
			if dom != envelope.BlindIndex {
				return nil
			}
			return rewrap(cmd, c, dom)
		},
	}
	f.register(cmd)
	return cmd
}

func newKeysRewrapCmd(g *globals, f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rewrap [DOMAIN]",
		Short: "Move data keys onto the newest key-encryption key version, online and resumable (an API client)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := envelope.CustomerPII.String()
			if len(args) == 1 {
				name = args[0]
			}
			dom, err := domainArg(name)
			if err != nil {
				return err
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			return rewrap(cmd, c, dom)
		},
	}
	f.register(cmd)
	return cmd
}

// rewrap asks the server to rewrap dom until a pass is done. Each request
// works for a few seconds and says what is left; the progress bar (on
// standard error) moves once per request.
func rewrap(cmd *cobra.Command, c *client.Client, dom envelope.Domain) error {
	var bar *progressbar.ProgressBar
	var moved, reindexed int64
	for {
		var out server.RewrapView
		err := c.Do(cmd.Context(), "POST", "/v1/keys/rewrap", map[string]string{"domain": dom.String()}, &out)
		var refused *client.Problem
		switch {
		case errors.As(err, &refused) && refused.Status < 500:
			return err // refused: running it again would not help
		case err != nil:
			return fmt.Errorf("%w (run the command again to resume)", err)
		}
		moved, reindexed = moved+out.Rewrapped, reindexed+out.Reindexed
		if bar == nil && !out.Done {
			bar = progressbar.NewOptions64(moved+out.Remaining, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionSetDescription("rewrap "+dom.String()),
				progressbar.OptionShowCount(), progressbar.OptionShowIts())
		}
		if bar != nil {
			bar.Set64(moved)
		}
		if out.Done {
			break
		}
		if out.Rewrapped == 0 && out.Reindexed == 0 {
			return fmt.Errorf("rewrap %s: a request moved nothing (run the command again to resume)", dom)
		}
	}
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	fmt.Fprintf(cmd.OutOrStdout(), "rewrapped %d %s data keys\n", moved, dom)
	if dom == envelope.BlindIndex {
		fmt.Fprintf(cmd.OutOrStdout(), "re-indexed %d customers\n", reindexed)
	}
	return nil
}

func newKeysDestroyCmd(g *globals, f *apiFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "destroy DOMAIN VERSION",
		Short: "Destroy a retired key-encryption key version (refused while anything uses it; an API client)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			dom, err := domainArg(args[0])
			if err != nil {
				return err
			}
			v, err := strconv.ParseUint(args[1], 10, 32)
			if err != nil || v == 0 {
				return fmt.Errorf("version %q: a positive number", args[1])
			}
			c, err := f.client(g)
			if err != nil {
				return err
			}
			path := fmt.Sprintf("/v1/keys/%s/versions/%d/destroy", dom, v)
			if err := c.Do(cmd.Context(), "POST", path, nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s version %d destroyed\n", dom, v)
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func newKeysBackupCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Write a snapshot of the keystore (wrapped keys only), apart from the data",
		Args:  cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			return recordLocal(cmd, d, audit.ActionSnapshot, keystoreRes, func(ctx context.Context) error {
				return writeNew(out, func(w io.Writer) error { return d.Keys.Snapshot(ctx, w) })
			})
		}),
	}
	cmd.Flags().StringVar(&out, "out", "", "file to create")
	cmd.MarkFlagRequired("out")
	return cmd
}

// printJSON writes v as indented JSON.
func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
