package keys

import (
	"context"
	"time"
)

// Maintenance is the keystore's background work, run by Run on a schedule:
// picking up other nodes' rotations, rotating what its crypto-period has
// made due, and removing pooled keys that no process holds any more.
type Maintenance struct {
	// Every is how often the work runs (default one hour).
	Every time.Duration
	// OrphanAge is how old an unassigned data key must be before the sweep
	// deletes it: at least a day, twice as old as any key a pool hands out.
	OrphanAge time.Duration
	// Around, if set, runs each job that changes keys (each rotation, the
	// sweep of unassigned keys): it is given the job and must call run for
	// it to happen. The server records the job in its audit trail before
	// it runs, and refuses to run it when the record cannot be written.
	Around func(ctx context.Context, job Job, run func(context.Context) error) error
}

// Job is one piece of scheduled maintenance that changes keys.
type Job struct {
	Name   string // JobRotate or JobSweepOrphans
	Domain Domain // the domain a rotation rotates; zero for the sweep
}

// Scheduled jobs, as Around names them.
const (
	JobRotate       = "rotate"
	JobSweepOrphans = "sweepOrphans"
)

// around runs job through m.Around, if set.
func (m Maintenance) around(ctx context.Context, job Job, run func(context.Context) error) error {
	if m.Around == nil {
		return run(ctx)
	}
	return m.Around(ctx, job, run)
}

// RunOnce does one round of maintenance and returns the domains it rotated.
func (k *Keystore) RunOnce(ctx context.Context, m Maintenance) ([]Domain, error) {
	if m.OrphanAge < 2*maxPoolAge {
		m.OrphanAge = 2 * maxPoolAge
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	rotated, err := k.rotateDue(ctx, func(ctx context.Context, d Domain, rotate func(context.Context) error) error {
		return m.around(ctx, Job{Name: JobRotate, Domain: d}, rotate)
	})
	if err != nil {
		return rotated, err
	}
	cutoff := k.cfg.Now().Add(-m.OrphanAge).UnixMicro()
	var n int64
	err = m.around(ctx, Job{Name: JobSweepOrphans}, func(ctx context.Context) error {
		var err error
		n, err = k.SweepOrphans(ctx, cutoff)
		return err
	})
	if err != nil {
		return rotated, err
	}
	if n > 0 {
		k.log.Info("removed unassigned data keys", "keys", n)
	}
	return rotated, nil
}

// Run does maintenance until ctx ends. Failures are logged and retried at
// the next round. On a cluster one node runs it (a lease decides which).
func (k *Keystore) Run(ctx context.Context, m Maintenance) {
	if m.Every <= 0 {
		m.Every = time.Hour
	}
	t := time.NewTicker(m.Every)
	defer t.Stop()
	for {
		if _, err := k.RunOnce(ctx, m); err != nil && ctx.Err() == nil {
			k.log.Warn("key maintenance", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
