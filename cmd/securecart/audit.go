package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"
	"golang.org/x/mod/sumdb/note"

	"github.com/securecart/securecart/internal/audit"
)

// auditFlags are the settings the audit subcommands share.
type auditFlags struct {
	dir    string
	origin string
	keys   []string
}

func newAuditCmd(g *globals) *cobra.Command {
	af := &auditFlags{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Verify, prove, read and export the audit trail (reads the data directory)",
	}
	f := cmd.PersistentFlags()
	f.StringVar(&af.dir, "audit-dir", "", "audit directory (default: DATA_DIR/audit)")
	f.StringVar(&af.origin, "origin", "", "log origin (default: the one in the directory's checkpoints)")
	f.StringArrayVar(&af.keys, "key", nil,
		"verifier key (audit pubkey prints it); repeatable; without it the keystore is opened")
	cmd.AddCommand(newAuditVerifyCmd(g, af), newAuditProveCmd(g, af), newAuditConsistencyCmd(g, af),
		newAuditVerifyProofCmd(af), newAuditTailCmd(g, af), newAuditExportCmd(g, af), newAuditPubkeyCmd(g, af),
		newAuditFetchCmd(g, af))
	return cmd
}

// path returns the audit directory.
func (af *auditFlags) path(g *globals) string {
	if af.dir != "" {
		return af.dir
	}
	return filepath.Join(g.cfg.DataDir, audit.DirName)
}

// logOrigin returns the origin given or found in the directory.
func (af *auditFlags) logOrigin(g *globals) (string, error) {
	if af.origin != "" {
		return af.origin, nil
	}
	o, err := audit.LogOrigin(af.path(g))
	if err != nil {
		return "", err
	}
	if o == "" {
		return audit.DefaultOrigin, nil
	}
	return o, nil
}

// verifiers returns the verifiers of --key, or else those of every live
// audit-signing key in the keystore.
func (af *auditFlags) verifiers(cmd *cobra.Command, g *globals) ([]note.Verifier, error) {
	vkeys := af.keys
	if len(vkeys) == 0 {
		origin, err := af.logOrigin(g)
		if err != nil {
			return nil, err
		}
		d, err := g.open(cmd.Context())
		if err != nil {
			return nil, err
		}
		defer d.Close()
		if vkeys, err = d.Keys.AuditVerifierKeys(origin); err != nil {
			return nil, err
		}
	}
	return parseVerifiers(vkeys)
}

func parseVerifiers(vkeys []string) ([]note.Verifier, error) {
	if len(vkeys) == 0 {
		return nil, errors.New("no verifier key (--key)")
	}
	var vs []note.Verifier
	for _, k := range vkeys {
		v, err := note.NewVerifier(k)
		if err != nil {
			return nil, fmt.Errorf("verifier key %q: %w", k, err)
		}
		vs = append(vs, v)
	}
	return vs, nil
}
