package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/client"
	"github.com/securecart/securecart/internal/server"
)

// newSignInCmd signs a person in and prints the session token, which the
// other API client commands take as SECURECART_API_KEY.
func newSignInCmd(g *globals) *cobra.Command {
	var f apiFlags
	var name, code string
	cmd := &cobra.Command{
		Use:   "signin --name NAME [--code CODE]",
		Short: "Sign in with password and TOTP; prints a session token (valid 15 min idle, 12 h at most)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pw := []byte(os.Getenv("SECURECART_PASSWORD"))
			if len(pw) == 0 {
				var err error
				if pw, err = readSecret("Password: "); err != nil {
					return fmt.Errorf("%w; set SECURECART_PASSWORD instead", err)
				}
			}
			defer clear(pw)
			if code == "" {
				c, err := readSecret("TOTP or recovery code: ")
				if err != nil {
					return fmt.Errorf("%w; pass --code instead", err)
				}
				code = string(c)
			}
			c, err := f.anonymousClient(g)
			if err != nil {
				return err
			}
			var s server.SessionView
			err = c.Do(cmd.Context(), "POST", "/v1/sessions",
				map[string]any{"name": name, "password": string(pw), "code": code}, &s)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "signed in until %s at the latest\nexport SECURECART_API_KEY=%s\n",
				s.ExpiresAt.Format("2006-01-02 15:04 MST"), s.Token)
			return nil
		},
	}
	f.register(cmd)
	cmd.Flags().StringVar(&name, "name", "", "principal name")
	cmd.Flags().StringVar(&code, "code", "", "TOTP code or recovery code (prompted when empty)")
	return cmd
}

// anonymousClient is a client without credentials, for signing in.
func (f *apiFlags) anonymousClient(g *globals) (*client.Client, error) {
	f2 := *f
	f2.key = "sign-in"
	c, err := f2.client(g)
	if err != nil {
		return nil, err
	}
	return c.WithoutKey(), nil
}

// credentialCmds are the principals subcommands for passwords, TOTP,
// sessions and service certificates.
func credentialCmds(g *globals, f *apiFlags) []*cobra.Command {
	do := func(cmd *cobra.Command, method, path string, in, out any) error {
		c, err := f.client(g)
		if err != nil {
			return err
		}
		return c.Do(cmd.Context(), method, path, in, out)
	}
	password := &cobra.Command{
		Use:   "set-password PRINCIPAL_ID",
		Short: "Set a person's password (prompted, or SECURECART_NEW_PASSWORD)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pw, err := newSecret("SECURECART_NEW_PASSWORD", "New password")
			if err != nil {
				return err
			}
			defer clear(pw)
			if err := do(cmd, "POST", "/v1/principals/"+args[0]+"/password",
				map[string]any{"password": string(pw)}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "password set for %s; its sessions were ended\n", args[0])
			return nil
		},
	}
	enrol := &cobra.Command{
		Use:   "enrol-totp PRINCIPAL_ID",
		Short: "Start TOTP enrolment: prints the secret once; finish with confirm-totp",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v server.TOTPView
			if err := do(cmd, "POST", "/v1/principals/"+args[0]+"/totp", nil, &v); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "TOTP secret (shown once): %s\n%s\n"+
				"Add it to an authenticator app, then run confirm-totp with a code.\n", v.Secret, v.OTPAuthURL)
			return nil
		},
	}
	confirm := &cobra.Command{
		Use:   "confirm-totp PRINCIPAL_ID CODE",
		Short: "Finish TOTP enrolment; prints the recovery codes once",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var v server.RecoveryCodesView
			if err := do(cmd, "POST", "/v1/principals/"+args[0]+"/totp/confirm",
				map[string]any{"code": args[1]}, &v); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "TOTP enrolled. Recovery codes, each usable once (shown once):\n  %s\n",
				strings.Join(v.RecoveryCodes, "\n  "))
			return nil
		},
	}
	endSessions := &cobra.Command{
		Use:   "end-sessions PRINCIPAL_ID",
		Short: "End every session of a principal",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := do(cmd, "DELETE", "/v1/principals/"+args[0]+"/sessions", nil, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "sessions of %s ended\n", args[0])
			return nil
		},
	}
	var out string
	var hours int
	cert := &cobra.Command{
		Use:   "issue-cert NAME",
		Short: "Issue a client certificate for a service (default 24 h); writes NAME.pem and NAME-key.pem",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var page server.Page[server.PrincipalView]
			if err := do(cmd, "GET", "/v1/principals", nil, &page); err != nil {
				return err
			}
			id := ""
			for _, p := range page.Items {
				if p.Name == args[0] {
					id = p.ID
				}
			}
			if id == "" {
				return fmt.Errorf("no principal named %q", args[0])
			}
			var c client.Certificate
			if err := do(cmd, "POST", "/v1/principals/"+id+"/certificates",
				map[string]any{"validity_hours": hours}, &c); err != nil {
				return err
			}
			certFile := filepath.Join(out, args[0]+".pem")
			keyFile := filepath.Join(out, args[0]+"-key.pem")
			if err := os.WriteFile(keyFile, []byte(c.PrivateKeyPEM), 0o600); err != nil {
				return err
			}
			if err := os.WriteFile(certFile, []byte(c.CertificatePEM), 0o600); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "certificate for %s (%s) valid until %s\n  %s\n  %s\n",
				args[0], id, c.NotAfter.Format("2006-01-02 15:04 MST"), certFile, keyFile)
			return nil
		},
	}
	cert.Flags().StringVar(&out, "out", ".", "directory to write the certificate and key to")
	cert.Flags().IntVar(&hours, "validity-hours", 0, "lifetime in hours (0: the server's default, 24)")
	return []*cobra.Command{password, enrol, confirm, endSessions, cert, renewCertCmd(g, f)}
}

// renewCertCmd is what a service runs (from cron, or with --watch) to
// renew its certificate with the certificate itself, before it expires.
func renewCertCmd(g *globals, f *apiFlags) *cobra.Command {
	var certFile, keyFile string
	var watch bool
	cmd := &cobra.Command{
		Use:   "renew-cert PRINCIPAL_ID --cert FILE --key FILE",
		Short: "Renew a service's certificate with itself once a third of its lifetime is left",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ca := f.ca
			if ca == "" {
				if p := filepath.Join(g.cfg.DataDir, "tls", "ca.pem"); fileExists(p) {
					ca = p
				}
			}
			c, err := client.NewWithCert(f.url, certFile, keyFile, ca)
			if err != nil {
				return err
			}
			r := &client.Renewer{Client: c, PrincipalID: args[0], CertFile: certFile, KeyFile: keyFile}
			out := cmd.OutOrStdout()
			if watch {
				r.Run(cmd.Context(), time.Hour, func(err error) { fmt.Fprintln(cmd.ErrOrStderr(), "securecart:", err) })
				return nil
			}
			renewed, notAfter, err := r.RenewIfDue(cmd.Context())
			if err != nil {
				return err
			}
			if renewed {
				fmt.Fprintf(out, "renewed; valid until %s\n", notAfter.Format("2006-01-02 15:04 MST"))
			} else {
				fmt.Fprintf(out, "not due; valid until %s\n", notAfter.Format("2006-01-02 15:04 MST"))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&certFile, "cert", "", "the service's certificate file (replaced on renewal)")
	cmd.Flags().StringVar(&keyFile, "key", "", "its private key file (replaced on renewal)")
	cmd.Flags().BoolVar(&watch, "watch", false, "keep running and check every hour")
	cmd.MarkFlagRequired("cert")
	cmd.MarkFlagRequired("key")
	return cmd
}
