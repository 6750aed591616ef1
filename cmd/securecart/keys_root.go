package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/keys"
)

// recoveryEnv supplies the recovery passphrase without a prompt.
const recoveryEnv = "SECURECART_RECOVERY_PASSPHRASE"

func newKeysExportRootCmd(g *globals) *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export-root --out FILE",
		Short: "Write the root key sealed under a recovery passphrase, for disaster recovery",
		Long: "Write the root key sealed under a recovery passphrase (Argon2id, then\n" +
			"XChaCha20-Poly1305). Keep the file and the passphrase apart, and both away\n" +
			"from the data. The passphrase comes from " + recoveryEnv + " or a prompt.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			pass, err := newSecret(recoveryEnv, "Recovery passphrase")
			if err != nil {
				return err
			}
			d, err := g.open(cmd.Context())
			if err != nil {
				return err
			}
			defer d.Close()
			defer clear(pass)
			err = recordLocal(cmd, d, audit.ActionExportRoot, rootKeyRes, func(context.Context) error {
				blob, err := keys.ExportRoot(d.Keys.Root(), pass)
				if err != nil {
					return err
				}
				return writeNew(out, func(w io.Writer) error { _, err := w.Write(blob); return err })
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "root key %s exported to %s\n", d.Keys.Root().ID(), out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to create")
	cmd.MarkFlagRequired("out")
	return cmd
}

func newKeysImportRootCmd(g *globals) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "import-root FILE",
		Short: "Restore the root key from its recovery export on a new machine",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			blob, err := os.ReadFile(args[0])
			if err != nil {
				return err
			}
			pass, err := passphraseFor(recoveryEnv, "Recovery passphrase: ")
			if err != nil {
				return err
			}
			root, err := keys.ImportRoot(blob, pass)
			clear(pass)
			if err != nil {
				return err
			}
			defer root.Wipe()
			ctx := cmd.Context()
			db, err := deploy.OpenDB(ctx, g.cfg)
			if err != nil {
				return err
			}
			defer db.Close()
			if want, err := keys.RootID(ctx, db); err == nil && want != root.ID() {
				return &keys.HintedError{
					Err:  fmt.Errorf("this export holds root key %s, but the keystore is wrapped under %s", root.ID(), want),
					Hint: "use the export made after the last 'keys rotate-root'",
				}
			} else if err != nil && !errors.Is(err, keys.ErrNoMeta) {
				return err
			}
			p, err := deploy.Provider(g.cfg, db, deploy.Options{Getenv: os.Getenv,
				Passphrase: func() ([]byte, error) { return newSecret(config.PassphraseEnv, "New root key passphrase") }})
			if err != nil {
				return err
			}
			if cur, err := p.Load(ctx); err == nil && !force {
				if cur.Equal(root) {
					fmt.Fprintln(cmd.OutOrStdout(), "this root key is already in place")
					return nil
				}
				return &keys.HintedError{Err: errors.New("a different root key is already configured"),
					Hint: "move it away first, or pass --force to replace it"}
			}
			if err := p.Save(ctx, root); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "root key %s imported (%s provider)\n", root.ID(), p.Kind())
			return nil
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace a root key that is already configured")
	return cmd
}

func newKeysRotateRootCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-root",
		Short: "Generate a new root key and re-wrap every key-encryption key under it",
		Long: "Generate a new root key and re-wrap every key-encryption key under it.\n" +
			"Export the new key afterwards (keys export-root): older exports no longer open this keystore.",
		Args: cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			old := d.Keys.Root().ID()
			err := recordLocal(cmd, d, audit.ActionRotateRoot, rootKeyRes, d.Keys.RotateRoot)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "root key rotated: %s -> %s; export the new one with 'securecart keys export-root'\n",
				old, d.Keys.Root().ID())
			return nil
		}),
	}
}

func passphraseFor(env, prompt string) ([]byte, error) {
	if v := os.Getenv(env); v != "" {
		return []byte(v), nil
	}
	b, err := readSecret(prompt)
	if err != nil {
		return nil, fmt.Errorf("%w; set %s instead", err, env)
	}
	return b, nil
}

// writeNew creates path with mode 0600, refusing to overwrite a file, and
// fills it with write; a failed write leaves no file behind.
func writeNew(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%s exists; choose another name", path)
	}
	if err != nil {
		return err
	}
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
	}
	return err
}
