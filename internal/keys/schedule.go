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
	// Around, if set, runs each scheduled rotation: it is given the
	// domain and the rotation, and must call rotate for it to happen (the
	// server records the rotation in its audit trail before it runs, and
	// refuses to run it when the record cannot be written).
	Around func(ctx context.Context, d Domain, rotate func(context.Context) error) error
}

// RunOnce does one round of maintenance and returns the domains it rotated.
func (k *Keystore) RunOnce(ctx context.Context, m Maintenance) ([]Domain, error) {
	if m.OrphanAge < 2*maxPoolAge {
		m.OrphanAge = 2 * maxPoolAge
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	rotated, err := k.rotateDue(ctx, m.Around)
	if err != nil {
		return rotated, err
	}
	cutoff := k.cfg.Now().Add(-m.OrphanAge).UnixMicro()
	if n, err := k.SweepOrphans(ctx, cutoff); err != nil {
		return rotated, err
	} else if n > 0 {
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
