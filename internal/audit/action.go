package audit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Appender takes records and returns once each is durable. *Log
// implements it.
type Appender interface {
	Append(ctx context.Context, r *Record) (uint64, error)
}

// Action is an admin command or a background action, as Do records it.
type Action struct {
	// Name is the action, such as "rotateKey"; the Action* constants
	// name those SecureCart takes outside the API.
	Name string
	// Resource is what the action works on, such as
	// {Type: "KeyDomain", ID: "customer-pii"}.
	Resource Resource
	// Principal is who acts: Operator for a command run on the host,
	// System for a worker of the server.
	Principal Principal
	// Source says where from; UserAgent names the command or the worker,
	// such as "securecart keys rotate-root".
	Source Source
	// Purpose is the stated purpose, if any.
	Purpose string
}

// Who acts outside the API.
var (
	// Operator is the person at the host, running a command that opens
	// the deployment directly (with the root key, not an API key).
	Operator = Principal{ID: "local-operator", Kind: "operator"}
	// System is a background worker of the running server.
	System = Principal{ID: "securecart", Kind: "system"}
)

// Names of the actions taken outside the API.
const (
	ActionRotateKey     = "rotateKey"
	ActionRotateRoot    = "rotateRootKey"
	ActionExportRoot    = "exportRootKey"
	ActionSweepErased   = "sweepErased"
	ActionSweepKeys     = "sweepUnassignedKeys"
	ActionSnapshot      = "takeSnapshot"
	ActionRestore       = "restoreBackup"
	ActionRestoreRecord = "restoreRecord"
	ActionVerifyBackup  = "verifyBackup"
	ActionAdminRecover  = "adminRecover"
)

// Outcome statuses of actions taken outside the API, on the HTTP scale
// that API records use.
const (
	StatusDone     = 200 // the action completed
	StatusCanceled = 499 // the context ended first
	StatusFailed   = 500 // the action returned an error
)

// Do records act around fn, the way the API records a request: the
// request record is appended and durable before fn runs, and if it
// cannot be, fn does not run and Do returns the append's error. Once fn
// returns, the outcome record names the request record and says how fn
// ended (StatusDone, StatusCanceled or StatusFailed with the error code
// "canceled" or "failed"; the error's text is not recorded, as it may
// carry data). Do returns fn's error, joined with the outcome append's
// error if that failed too.
func Do(ctx context.Context, to Appender, act Action, fn func(context.Context) error) error {
	var id [12]byte
	rand.Read(id[:])
	rec := Record{
		Phase:     PhaseRequest,
		Time:      time.Now(),
		RequestID: "act_" + hex.EncodeToString(id[:]),
		Principal: act.Principal,
		Source:    act.Source,
		Action:    act.Name,
		Resource:  act.Resource,
		Purpose:   act.Purpose,
	}
	seq, err := to.Append(ctx, &rec)
	if err != nil {
		return fmt.Errorf("record %s: %w", act.Name, err)
	}

	ferr := fn(ctx)

	rec.Phase, rec.RequestSeq, rec.Time = PhaseOutcome, seq, time.Now()
	rec.Outcome = outcomeOf(ferr)
	// The action has run: its outcome is written even if ctx has ended.
	if _, err := to.Append(context.WithoutCancel(ctx), &rec); err != nil {
		return errors.Join(ferr, fmt.Errorf("record the outcome of %s: %w", act.Name, err))
	}
	return ferr
}

func outcomeOf(err error) Outcome {
	switch {
	case err == nil:
		return Outcome{Status: StatusDone}
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return Outcome{Status: StatusCanceled, ErrorCode: "canceled"}
	}
	return Outcome{Status: StatusFailed, ErrorCode: "failed"}
}
