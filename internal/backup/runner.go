package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
)

// RunnerOptions tune a Runner. Zero values take the defaults.
type RunnerOptions struct {
	// VerifyInterval is the time between two scheduled verifications
	// (default 7 days). A deployment never verified is verified once its
	// first snapshot exists.
	VerifyInterval time.Duration
	// VerifyWait is how long a verification waits for the backups to
	// reach the live position (default 1 minute).
	VerifyWait time.Duration
	// Scratch returns a new, empty database for a verification or a
	// record restore, and a function that removes it.
	Scratch func(ctx context.Context) (sqldb.DB, func(), error)
	// Provider returns the root key provider for a scratch database.
	Provider func(sqldb.DB) (keys.Provider, error)
	// Logger receives verification results.
	Logger *slog.Logger
}

// Runner runs a deployment's backups in the background: the shipper with
// its snapshots and retention, and the scheduled verification.
type Runner struct {
	sh   *Shipper
	obj  objstore.Store
	opts RunnerOptions
	log  *slog.Logger

	verifyMu sync.Mutex // one verification or record restore at a time

	catMu   sync.Mutex
	window  Window
	windowT time.Time // when window was read
}

// NewRunner returns a Runner for sh, whose objects are in obj.
func NewRunner(sh *Shipper, obj objstore.Store, opts RunnerOptions) *Runner {
	if opts.VerifyInterval <= 0 {
		opts.VerifyInterval = 7 * 24 * time.Hour
	}
	if opts.VerifyWait <= 0 {
		opts.VerifyWait = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{sh: sh, obj: obj, opts: opts, log: opts.Logger}
}

// Shipper returns the runner's shipper.
func (r *Runner) Shipper() *Shipper { return r.sh }

// Run ships, snapshots and verifies on schedule until ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.verifyLoop(ctx)
	}()
	err := r.sh.Run(ctx)
	wg.Wait()
	return err
}

// verifyPoll is how often the verify loop looks whether one is due.
const verifyPoll = time.Minute

func (r *Runner) verifyLoop(ctx context.Context) {
	wait := time.Second
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = verifyPoll
		due, err := r.verifyDue(ctx)
		if err != nil {
			r.log.Warn("backup verification schedule", logErr, err)
			continue
		}
		if !due {
			continue
		}
		var res VerifyResult
		err = r.sh.opts.around(ctx, JobVerify, func(ctx context.Context) error {
			var err error
			res, err = r.Verify(ctx)
			if err == nil && !res.OK {
				err = errors.New("the restore differs from the live store")
			}
			return err
		})
		switch {
		case ctx.Err() != nil:
			return
		case err != nil:
			r.log.Error("scheduled backup verification failed", logErr, err, "pos", res.Pos)
		default:
			r.log.Info("scheduled backup verification passed", "pos", res.Pos)
		}
	}
}

// verifyDue reports whether the schedule calls for a verification: the
// last one is older than the interval, or there was none and a snapshot
// exists.
func (r *Runner) verifyDue(ctx context.Context) (bool, error) {
	last, err := LastVerify(ctx, r.sh.st.DB())
	if err != nil {
		return false, err
	}
	if last != nil {
		return r.sh.now().Sub(last.At) >= r.opts.VerifyInterval, nil
	}
	return !r.sh.Status().LastSnapshot.IsZero(), nil
}

// Verify restores the backups at the live position into a scratch
// database, compares, and records the result for Status.
func (r *Runner) Verify(ctx context.Context) (VerifyResult, error) {
	r.verifyMu.Lock()
	defer r.verifyMu.Unlock()
	if r.opts.Scratch == nil || r.opts.Provider == nil {
		return VerifyResult{}, errors.New("verify: no scratch database configured")
	}
	db, drop, err := r.opts.Scratch(ctx)
	if err != nil {
		return VerifyResult{}, fmt.Errorf("verify: scratch database: %w", err)
	}
	defer drop()
	return Verify(ctx, r.sh.st.DB(), RestoreOptions{Objects: r.obj, Deployment: r.sh.id, Target: db,
		Provider: r.opts.Provider}, r.opts.VerifyWait)
}

// Report is the state of a deployment's backups, for the status endpoint.
type Report struct {
	Shipping   Status
	Window     Window
	LastVerify *VerifyRecord
}

// Window is the restorable window of a catalog.
type Window struct {
	From, To  time.Time
	Snapshots int
	Segments  int
}

// windowAge is how long Status reuses the restorable window it read: a
// week of segments is a long listing.
const windowAge = time.Minute

// Status reports the shipper's state, the restorable window (read from
// storage at most once a minute) and the last verification.
func (r *Runner) Status(ctx context.Context) (Report, error) {
	rep := Report{Shipping: r.sh.Status()}
	var err error
	if rep.Window, err = r.readWindow(ctx); err != nil {
		return rep, err
	}
	rep.LastVerify, err = LastVerify(ctx, r.sh.st.DB())
	return rep, err
}

func (r *Runner) readWindow(ctx context.Context) (Window, error) {
	r.catMu.Lock()
	defer r.catMu.Unlock()
	if !r.windowT.IsZero() && time.Since(r.windowT) < windowAge {
		return r.window, nil
	}
	cat, err := ReadCatalog(ctx, r.obj, r.sh.id)
	if err != nil {
		return Window{}, err
	}
	w := Window{Snapshots: len(cat.Snapshots), Segments: len(cat.Segments)}
	w.From, w.To = cat.Window()
	r.window, r.windowT = w, time.Now()
	return w, nil
}
