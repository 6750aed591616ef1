package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/keys"
)

// ActionAdminRecover names admin recover in the audit trail.
const ActionAdminRecover = "adminRecover"

func newAdminCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "admin",
		Short: "Break-glass operations for the local operator (reads the data directory; needs the root key)",
	}
	recoverCmd := &cobra.Command{
		Use:   "recover",
		Short: "Unlock every admin and print a one-hour key that can only enrol a new admin",
		Long: "recover restores a way in when every admin is locked out or lost. It clears the\n" +
			"lockout of every admin person and gives the bootstrap principal a new key, valid\n" +
			"for one hour, that can only create and enrol an admin person; enrolling one\n" +
			"revokes it. It opens the deployment directly, so it needs the root key, and it\n" +
			"records itself in the audit trail before it changes anything.",
		Args: cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			r, err := recoverAudited(cmd.Context(), d)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if len(r.Unlocked) > 0 {
				fmt.Fprintf(out, "unlocked: %s\n", strings.Join(r.Unlocked, ", "))
			} else {
				fmt.Fprintln(out, "no admin was locked")
			}
			fmt.Fprintf(out, "Enrolment key for %s, valid until %s (shown once):\n  %s\n",
				r.Bootstrap, r.KeyInfo.ExpiresAt.Format("2006-01-02 15:04 MST"), r.Key.Reveal())
			return nil
		}),
	}
	cmd.AddCommand(recoverCmd)
	return cmd
}

// recoverAudited writes the request record, runs the recovery only once
// that record is durable, then writes the outcome.
func recoverAudited(ctx context.Context, d *deploy.Deployment) (*identity.Recovery, error) {
	log, err := d.OpenAudit(audit.Options{})
	if errors.Is(err, audit.ErrLocked) {
		return nil, &keys.HintedError{Err: fmt.Errorf("admin recover: %w", err),
			Hint: "a running securecart serve holds the audit log: stop it, recover, and start it again"}
	}
	if err != nil {
		return nil, fmt.Errorf("admin recover: %w", err)
	}
	defer log.Close()

	var id [12]byte
	rand.Read(id[:])
	rec := audit.Record{
		Phase:     audit.PhaseRequest,
		Time:      time.Now(),
		RequestID: "req_" + hex.EncodeToString(id[:]),
		Principal: audit.Principal{ID: "local-operator", Kind: "operator"},
		Source:    audit.Source{Address: "local", UserAgent: "securecart admin recover"},
		Action:    ActionAdminRecover,
		Resource:  audit.Resource{Type: "Collection", ID: "principals"},
	}
	seq, err := log.Append(ctx, &rec)
	if err != nil {
		return nil, fmt.Errorf("admin recover: audit: %w", err)
	}

	r, rerr := d.Identity.Recover(ctx)
	rec.Phase, rec.RequestSeq, rec.Time = audit.PhaseOutcome, seq, time.Now()
	rec.Outcome = audit.Outcome{Status: 200}
	if rerr != nil {
		rec.Outcome = audit.Outcome{Status: 500, ErrorCode: "internal"}
	}
	if _, err := log.Append(ctx, &rec); err != nil {
		return nil, errors.Join(rerr, fmt.Errorf("admin recover: audit outcome: %w", err))
	}
	if rerr != nil {
		return nil, rerr
	}
	return r, nil
}
