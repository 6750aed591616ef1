package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/envelope"
)

func newKeysCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "keys",
		Short: "Manage the key hierarchy (root key, key-encryption keys, data keys)",
	}
	cmd.AddCommand(newKeysListCmd(g), newKeysRotateCmd(g), newKeysRewrapCmd(g), newKeysDestroyCmd(g),
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

func newKeysRotateCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate DOMAIN",
		Short: "Add a key-encryption key version; new writes use it, old data stays readable",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dom, err := domainArg(args[0])
			if err != nil {
				return err
			}
			d, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			return recordLocal(cmd, d, audit.ActionRotateKey, keyDomain(dom), func(ctx context.Context) error {
				v, err := d.Keys.Rotate(ctx, dom)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: version %d is active\n", dom, v)
				return reindexAfter(ctx, cmd, d, dom)
			})
		},
	}
}

func newKeysRewrapCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rewrap [DOMAIN]",
		Short: "Move data keys onto the newest key-encryption key version, online and resumable",
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
			d, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			return recordLocal(cmd, d, audit.ActionRewrapKeys, keyDomain(dom), func(ctx context.Context) error {
				return rewrap(ctx, cmd, d, dom)
			})
		},
	}
}

// rewrap moves the data keys of dom, with a progress bar.
func rewrap(ctx context.Context, cmd *cobra.Command, d *deploy.Deployment, dom envelope.Domain) error {
	var bar *progressbar.ProgressBar
	n, err := d.Keys.Rewrap(ctx, dom, func(done, total int64) {
		if bar == nil {
			bar = progressbar.NewOptions64(total, progressbar.OptionSetWriter(cmd.ErrOrStderr()),
				progressbar.OptionSetDescription("rewrap "+dom.String()),
				progressbar.OptionShowCount(), progressbar.OptionShowIts())
		}
		bar.Set64(done)
	})
	if bar != nil {
		bar.Finish()
		fmt.Fprintln(cmd.ErrOrStderr())
	}
	if err != nil {
		return fmt.Errorf("%w (run the command again to resume)", err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "rewrapped %d %s data keys\n", n, dom)
	return reindexAfter(ctx, cmd, d, dom)
}

func newKeysDestroyCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "destroy DOMAIN VERSION",
		Short: "Destroy a retired key-encryption key version (refused while anything uses it)",
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
			d, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			res := audit.Resource{Type: "KeyVersion", ID: dom.String() + "/" + args[1]}
			err = recordLocal(cmd, d, audit.ActionDestroyKey, res, func(ctx context.Context) error {
				return d.Keys.Destroy(ctx, dom, uint32(v))
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s version %d destroyed\n", dom, v)
			return nil
		},
	}
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

// reindexAfter re-indexes customers' emails after the blind-index key moved.
func reindexAfter(ctx context.Context, cmd *cobra.Command, d *deploy.Deployment, dom envelope.Domain) error {
	if dom != envelope.BlindIndex {
		return nil
	}
	n, err := d.Store.ReindexEmails(ctx, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(cmd.OutOrStdout(), "re-indexed %d customers\n", n)
	return nil
}

// printJSON writes v as indented JSON.
func printJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
