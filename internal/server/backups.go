package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/store"
)

// Backups serves the backup operations. *backup.Runner implements it.
type Backups interface {
	Status(ctx context.Context) (backup.Report, error)
	RestoreRecord(ctx context.Context, table, id string, asOf time.Time) (backup.RecordResult, error)
}

var backupsRes = resource{typ: policy.TypeCollection, id: "backups"}

// Problems of the backups API.
var (
	ProblemNotInBackup = Problem{Status: http.StatusNotFound, Code: "not_in_backup",
		Title: "The backups do not hold that record at that point"}
	ProblemErased = Problem{Status: http.StatusGone, Code: "erased",
		Title: "The customer was erased; erasure is final"}
)

// BackupStatusView is the state of the backups.
type BackupStatusView struct {
	Deployment string               `json:"deployment"`
	Shipping   ShippingView         `json:"shipping"`
	Window     WindowView           `json:"window"`
	LastVerify *backup.VerifyRecord `json:"last_verify"`
}

// ShippingView is the shipper's state.
type ShippingView struct {
	ShippedPosition int64      `json:"shipped_position"`
	LagSeconds      float64    `json:"lag_seconds"`
	Failures        int        `json:"failures"`
	LastError       string     `json:"last_error,omitempty"`
	LastShipped     *time.Time `json:"last_shipped_at"`
	LastSnapshot    *time.Time `json:"last_snapshot_at"`
	LastKeystore    *time.Time `json:"last_keystore_snapshot_at"`
}

// WindowView is the span a restore can reach.
type WindowView struct {
	From      *time.Time `json:"from"`
	To        *time.Time `json:"to"`
	Snapshots int        `json:"snapshots"`
	Segments  int        `json:"segments"`
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// backups authorizes a backup operation and checks there are backups.
func (a *API) backups(c *call) bool {
	if !a.allowed(c, policy.ManageBackups, backupsRes) {
		c.problem(ProblemForbidden)
		return false
	}
	if a.d.Backups == nil {
		c.problem(ProblemUnavailable.With("backups are not running on this node", ""))
		return false
	}
	return true
}

func (a *API) backupStatus(c *call) {
	if !a.backups(c) {
		return
	}
	r, err := a.d.Backups.Status(c.ctx)
	if err != nil {
		a.d.Logger.Warn("backup status", "request_id", c.requestID, "err", err)
		c.problem(ProblemUnavailable.With("object storage did not answer", ""))
		return
	}
	s := r.Shipping
	c.json(http.StatusOK, BackupStatusView{
		Deployment: s.Deployment,
		Shipping: ShippingView{ShippedPosition: s.Shipped, LagSeconds: s.Lag.Seconds(), Failures: s.Failures,
			LastError: s.LastError, LastShipped: timeOrNil(s.LastShip), LastSnapshot: timeOrNil(s.LastSnapshot),
			LastKeystore: timeOrNil(s.LastKeystore)},
		Window: WindowView{From: timeOrNil(r.Window.From), To: timeOrNil(r.Window.To),
			Snapshots: r.Window.Snapshots, Segments: r.Window.Segments},
		LastVerify: r.LastVerify,
	})
}

type restoreRecordIn struct {
	Record string    `json:"record"`
	AsOf   time.Time `json:"as_of"`
}

// restoreRecord brings one record back into the live store as it was at
// a point in time. The audit records name the record restored.
func (a *API) restoreRecord(c *call) {
	var in restoreRecordIn
	if p, ok := DecodeJSON(c.r, &in); !ok {
		c.problem(p)
		return
	}
	table, id, perr := backup.ParseRecord(in.Record)
	if perr == nil {
		c.trail.subject = &audit.Resource{Type: policy.TypeCustomer, ID: id}
	}
	c.trail.purpose = "restore-record"
	if !a.backups(c) {
		return
	}
	if perr != nil {
		c.problem(ProblemInvalid.With("want customers/ID", "record"))
		return
	}
	if in.AsOf.IsZero() || in.AsOf.After(a.d.Now()) {
		c.problem(ProblemInvalid.With("a time in the past", "as_of"))
		return
	}
	res, err := a.d.Backups.RestoreRecord(c.ctx, table, id, in.AsOf.UTC())
	switch {
	case err == nil:
		c.json(http.StatusOK, res)
	case errors.Is(err, backup.ErrNotInBackup):
		c.problem(ProblemNotInBackup)
	case errors.Is(err, store.ErrErased):
		c.problem(ProblemErased)
	case errors.Is(err, store.ErrDuplicate):
		c.problem(ProblemDuplicate.With("another customer has this email now", "record"))
	case errors.Is(err, backup.ErrNoSnapshot), errors.Is(err, backup.ErrBehind):
		c.problem(ProblemNotInBackup.With("the point is outside the restorable window", "as_of"))
	default:
		a.d.Logger.Error("restore record failed", "request_id", c.requestID, "err", err)
		c.problem(ProblemInternal)
	}
}
