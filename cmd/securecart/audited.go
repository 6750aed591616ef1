package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/keys"
)

// How host-local commands reach the audit trail
//
// A command that opens the deployment directly (keys backup, the root key
// commands, backups, restores, admin recover) records itself in the
// deployment's own trail, through audit.Do: the request record is durable
// before the command changes anything, the outcome follows. Only one
// process may append to a trail, and a running server holds it; such a
// command then refuses, with a hint, rather than act unrecorded. The
// commands that change keys on a running deployment (keys rotate, rewrap
// and destroy) are API clients instead, recorded by the server like any
// request. keys import-root is not recorded: it runs on a new machine
// before there is a keystore to sign the trail's checkpoints. Commands
// that only read (keys list, audit verify, tail and export, access
// unused) do not record themselves.

// hintServerHoldsTrail is the hint for audit.ErrLocked.
const hintServerHoldsTrail = "a running securecart serve holds the audit trail: stop it, run the command, " +
	"and start it again (keys rotate, rewrap and destroy go through the running server's API instead)"

// recordLocal runs fn as the local operator's action name on res,
// recorded in d's audit trail.
func recordLocal(cmd *cobra.Command, d *deploy.Deployment, name string, res audit.Resource,
	fn func(context.Context) error) (err error) {
	log, err := d.OpenAudit(audit.Options{})
	if errors.Is(err, audit.ErrLocked) {
		return &keys.HintedError{Err: fmt.Errorf("%s: %w", cmd.CommandPath(), err), Hint: hintServerHoldsTrail}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", cmd.CommandPath(), err)
	}
	defer func() {
		if cerr := log.Close(); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close audit trail: %w", cerr))
		}
	}()
	return audit.Do(cmd.Context(), log, audit.Action{Name: name, Resource: res, Principal: audit.Operator,
		Source: audit.Source{Address: "local", UserAgent: cmd.CommandPath()}}, fn)
}

// keyDomain is the resource of an action on the keys of a domain.
func keyDomain(d fmt.Stringer) audit.Resource {
	return audit.Resource{Type: "KeyDomain", ID: d.String()}
}

// Resources of the actions on whole collections.
var (
	keystoreRes = audit.Resource{Type: "Collection", ID: "keys"}
	rootKeyRes  = audit.Resource{Type: "RootKey", ID: "root"}
	backupsRes  = audit.Resource{Type: "Collection", ID: "backups"}
)

// serveSource is the source of the records of a server's background
// workers.
var serveSource = audit.Source{Address: "local", UserAgent: "securecart serve"}

// auditedMaintenance makes the key maintenance of a server record each
// job that changes keys in its trail: a rotation, or the sweep of
// unassigned data keys.
func auditedMaintenance(trail audit.Appender) func(context.Context, keys.Job, func(context.Context) error) error {
	return func(ctx context.Context, job keys.Job, run func(context.Context) error) error {
		act := audit.Action{Name: audit.ActionRotateKey, Resource: keyDomain(job.Domain),
			Principal: audit.System, Source: serveSource}
		if job.Name == keys.JobSweepOrphans {
			act.Name, act.Resource = audit.ActionSweepKeys, keystoreRes
		}
		return audit.Do(ctx, trail, act, run)
	}
}
