package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/server"
)

// apiFlags say how a command reaches a running deployment.
type apiFlags struct {
	url, key, ca string
}

func (f *apiFlags) register(cmd *cobra.Command) {
	fl := cmd.PersistentFlags()
	fl.StringVar(&f.url, "url", envOr("SECURECART_URL", "https://127.0.0.1:8443"), "API base URL (env SECURECART_URL)")
	fl.StringVar(&f.key, "api-key", "", "API key (env SECURECART_API_KEY; prefer the environment, flags show in ps)")
	fl.StringVar(&f.ca, "ca-file", os.Getenv("SECURECART_CA_FILE"), "CA certificate to trust (env SECURECART_CA_FILE; default DATA_DIR/tls/ca.pem)")
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func (f *apiFlags) client(g *globals) (*client.Client, error) {
	key := f.key
	if key == "" {
		key = os.Getenv("SECURECART_API_KEY")
	}
	ca := f.ca
	if ca == "" {
		if p := filepath.Join(g.cfg.DataDir, "tls", "ca.pem"); fileExists(p) {
			ca = p
		}
	}
	return client.New(f.url, key, ca)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func newPrincipalsCmd(g *globals) *cobra.Command {
	var f apiFlags
	cmd := &cobra.Command{
		Use:   "principals",
		Short: "Manage principals and their API keys on a running deployment (an API client)",
	}
	f.register(cmd)

	var name, kind string
	var roles []string
	var ttlDays int
	create := &cobra.Command{
		Use:   "create --name NAME --kind person|service --role ROLE...",
		Short: "Create a principal; its API key is printed once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var p server.PrincipalView
			err = c.Do(cmd.Context(), "POST", "/v1/principals", map[string]any{
				"name": name, "kind": kind, "roles": roles, "key_ttl_days": ttlDays}, &p)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "principal %s (%s, %s)\nAPI key (shown once): %s\n",
				p.ID, p.Name, strings.Join(p.Roles, ","), p.APIKey)
			return nil
		},
	}
	create.Flags().StringVar(&name, "name", "", "principal name")
	create.Flags().StringVar(&kind, "kind", "service", "person or service")
	create.Flags().StringSliceVar(&roles, "role", nil, "roles (repeat or comma-separate)")
	create.Flags().IntVar(&ttlDays, "key-ttl-days", 90, "days until the key expires (0: never)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List principals and their keys (never a secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			var page server.Page[server.PrincipalView]
			if err := c.Do(cmd.Context(), "GET", "/v1/principals", nil, &page); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ID\tNAME\tKIND\tROLES\tKEYS\tDISABLED")
			for _, p := range page.Items {
				var keys []string
				for _, k := range p.Keys {
					state := "active"
					if k.RevokedAt != nil {
						state = "revoked"
					}
					keys = append(keys, k.Prefix+"… "+state)
				}
				disabled := ""
				if p.DisabledAt != nil {
					disabled = p.DisabledAt.Format("2006-01-02")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Name, p.Kind, strings.Join(p.Roles, ","),
					strings.Join(keys, "; "), disabled)
			}
			return w.Flush()
		},
	}

	revoke := &cobra.Command{
		Use:   "revoke KEY_ID",
		Short: "Revoke an API key (its id is the part after sck_)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "DELETE", "/v1/keys/"+args[0], nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "key %s revoked\n", args[0])
			return nil
		},
	}

	disable := &cobra.Command{
		Use:   "disable PRINCIPAL_ID",
		Short: "Disable a principal: none of its keys or certificates authenticate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := f.client(g)
			if err != nil {
				return err
			}
			if err := c.Do(cmd.Context(), "POST", "/v1/principals/"+args[0]+"/disable", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "principal %s disabled\n", args[0])
			return nil
		},
	}
	cmd.AddCommand(create, list, revoke, disable)
	cmd.AddCommand(credentialCmds(g, &f)...)
	return cmd
}
