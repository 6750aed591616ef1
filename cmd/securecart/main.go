// Command securecart is SecureCart: the data layer of an online store with
// its data-security controls built in. Run `securecart help` for the
// commands.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/keys"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newRoot().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "securecart:", err)
		var h *keys.HintedError
		if errors.As(err, &h) && h.Hint != "" {
			fmt.Fprintln(os.Stderr, "hint:", h.Hint)
		}
		os.Exit(exitCode(err))
	}
}

// exitCode is the status to exit with after err: 0 for none, the code of
// an error that carries one (such as scan's), else 1.
func exitCode(err error) int {
	if err == nil {
		return 0
	}
	var coded interface{ ExitCode() int }
	if errors.As(err, &coded) {
		return coded.ExitCode()
	}
	return 1
}

// globals are the settings every subcommand shares.
type globals struct {
	cfg        config.Config
	configFile string
}

func newRoot() *cobra.Command {
	g := &globals{cfg: config.Default()}
	root := &cobra.Command{
		Use:           "securecart",
		Short:         "The data layer of an online store, with its security controls built in",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			return g.load(cmd)
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&g.configFile, "config", "", "JSON configuration file (env SECURECART_CONFIG)")
	f.StringVar(&g.cfg.DataDir, "data-dir", g.cfg.DataDir, "data directory (env SECURECART_DATA_DIR)")
	f.StringVar(&g.cfg.Database, "database", g.cfg.Database, `"sqlite" or a postgres:// DSN (env SECURECART_DATABASE)`)
	f.StringVar(&g.cfg.RootKeyProvider, "root-key-provider", g.cfg.RootKeyProvider,
		`"file" or "passphrase" (env SECURECART_ROOT_KEY_PROVIDER)`)
	f.StringVar(&g.cfg.RootKeyFile, "root-key-file", "",
		"root key file; keep it outside the data directory in production (env SECURECART_ROOT_KEY_FILE)")

	root.AddCommand(newVersionCmd(), newClassifyCmd(), newKeysCmd(g), newServeCmd(g), newDemoCmd(g), newPrincipalsCmd(g),
		newScanCmd(g), newAuditCmd(g))
	root.AddCommand(newSignInCmd(g), newAdminCmd(g))
	root.AddCommand(newBackupCmd(g))
	root.AddCommand(newPolicyCmd(g), newAccessCmd(g))
	root.AddCommand(newPaymentsCmd(g))
	return root
}

// load builds the settings: defaults, then the configuration file, then
// the environment, then the flags set on the command line.
func (g *globals) load(cmd *cobra.Command) error {
	flags := *g
	c := config.Default()
	path := os.Getenv("SECURECART_CONFIG")
	if cmd.Flags().Changed("config") {
		path = flags.configFile
	}
	if path != "" {
		if err := c.LoadFile(path); err != nil {
			return err
		}
	}
	if err := c.FromEnv(os.Getenv); err != nil {
		return err
	}
	for name, pair := range map[string][2]*string{
		"data-dir":          {&c.DataDir, &flags.cfg.DataDir},
		"database":          {&c.Database, &flags.cfg.Database},
		"root-key-provider": {&c.RootKeyProvider, &flags.cfg.RootKeyProvider},
		"root-key-file":     {&c.RootKeyFile, &flags.cfg.RootKeyFile},
	} {
		if cmd.Flags().Changed(name) {
			*pair[0] = *pair[1]
		}
	}
	g.cfg = c
	return nil
}

// withDeployment makes a command body that runs with the deployment open
// and closes it afterwards.
func (g *globals) withDeployment(fn func(*cobra.Command, *deploy.Deployment) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		d, err := g.open(cmd.Context())
		if err != nil {
			return err
		}
		defer d.Close()
		return fn(cmd, d)
	}
}

// open opens the deployment the flags describe.
func (g *globals) open(ctx context.Context) (*deploy.Deployment, error) {
	return deploy.Open(ctx, g.cfg, deploy.Options{
		Getenv:     os.Getenv,
		Passphrase: func() ([]byte, error) { return readSecret("Root key passphrase: ") },
	})
}
