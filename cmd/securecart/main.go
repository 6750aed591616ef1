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
		os.Exit(1)
	}
}

// globals are the settings every subcommand shares.
type globals struct {
	cfg config.Config
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
	f.StringVar(&g.cfg.DataDir, "data-dir", g.cfg.DataDir, "data directory (env SECURECART_DATA_DIR)")
	f.StringVar(&g.cfg.Database, "database", g.cfg.Database, `"sqlite" or a postgres:// DSN (env SECURECART_DATABASE)`)
	f.StringVar(&g.cfg.RootKeyProvider, "root-key-provider", g.cfg.RootKeyProvider,
		`"file" or "passphrase" (env SECURECART_ROOT_KEY_PROVIDER)`)
	f.StringVar(&g.cfg.RootKeyFile, "root-key-file", "",
		"root key file; keep it outside the data directory in production (env SECURECART_ROOT_KEY_FILE)")

	root.AddCommand(newVersionCmd(), newClassifyCmd(), newKeysCmd(g), newServeCmd(g), newDemoCmd(g), newPrincipalsCmd(g))
	return root
}

// load applies the environment, then lets flags set on the command line win.
func (g *globals) load(cmd *cobra.Command) error {
	flags := *g
	env := config.Default()
	if err := env.FromEnv(os.Getenv); err != nil {
		return err
	}
	pick := func(name string, flagVal, envVal string) string {
		if cmd.Flags().Changed(name) {
			return flagVal
		}
		return envVal
	}
	g.cfg.DataDir = pick("data-dir", flags.cfg.DataDir, env.DataDir)
	g.cfg.Database = pick("database", flags.cfg.Database, env.Database)
	g.cfg.RootKeyProvider = pick("root-key-provider", flags.cfg.RootKeyProvider, env.RootKeyProvider)
	g.cfg.RootKeyFile = pick("root-key-file", flags.cfg.RootKeyFile, env.RootKeyFile)
	g.cfg.CryptoPeriod = env.CryptoPeriod
	return nil
}

// open opens the deployment the flags describe.
func (g *globals) open(ctx context.Context) (*deploy.Deployment, error) {
	return deploy.Open(ctx, g.cfg, deploy.Options{
		Getenv:     os.Getenv,
		Passphrase: func() ([]byte, error) { return readSecret("Root key passphrase: ") },
	})
}
