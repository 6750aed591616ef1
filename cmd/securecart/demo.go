package main

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/demo"
	"github.com/securecart/securecart/internal/tlsca"
)

func newDemoCmd(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Serve a demo shop on the embedded defaults, with one principal per role",
		Long: "Serve the HTTPS API on the embedded defaults with a believable shop loaded\n" +
			"(1,000 customers, 200 products, 5,000 orders) and one principal per role, whose\n" +
			"keys go to DATA_DIR/demo-credentials.json (mode 0600). The loopback addresses count\n" +
			"as the application and payment networks, so the tour works on a laptop.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			d, err := g.open(ctx)
			if err != nil {
				return err
			}
			defer d.Close()
			f.merge(cmd, d.Config.Serve)
			credsPath := filepath.Join(d.Config.DataDir, "demo-credentials.json")
			creds, err := demo.ReadCredentials(credsPath)
			if errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintln(cmd.ErrOrStderr(), "loading the demo shop...")
				ca, err := tlsca.OpenCA(filepath.Join(d.Config.DataDir, "tls"))
				if err != nil {
					return err
				}
				ids, err := demo.Seed(ctx, d.Store)
				if err != nil {
					return err
				}
				roles, err := demo.Principals(ctx, d.Identity, ca, d.Config.DataDir)
				if err != nil {
					return err
				}
				creds = demo.Credentials{Roles: roles, Customer: ids[0],
					CAFile: filepath.Join(d.Config.DataDir, "tls", tlsca.CACertFile)}
			} else if err != nil {
				return fmt.Errorf("read %s: %w", credsPath, err)
			}
			f.appNets = append(f.appNets, "127.0.0.0/8", "::1/128")
			f.payNets = append(f.payNets, "127.0.0.0/8", "::1/128")
			ready := func(addr string) {
				creds.BaseURL = "https://" + addr
				if err := creds.Write(credsPath); err != nil {
					fmt.Fprintln(cmd.ErrOrStderr(), "securecart: write credentials:", err)
					return
				}
				fmt.Fprint(cmd.OutOrStdout(), creds.Tour())
			}
			return serve(ctx, d, f, cmd.OutOrStdout(), ready)
		},
	}
	f.register(cmd, "127.0.0.1:8443")
	return cmd
}
