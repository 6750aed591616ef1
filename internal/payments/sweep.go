package payments

import (
	"context"
	"log/slog"
	"time"

	"github.com/securecart/securecart/internal/audit"
)

// ActionSweep is the audit action of a sweep of dead tokens.
const ActionSweep = "sweepCardTokens"

// SweepEvery is how often a server sweeps dead tokens. A token answers as
// unknown from the moment its time to live ends or its single use is
// spent; the sweep then deletes it and destroys its key.
const SweepEvery = time.Hour

// sweepBatch bounds the tokens one store call deletes, so that a sweep
// after a long pause does not read every dead token at once.
const sweepBatch = 500

// sweepRes is what a sweep's audit records name.
var sweepRes = audit.Resource{Type: "Collection", ID: "payments"}

// Sweep deletes every token that can no longer be used (past its time to
// live, or single-use and spent), destroying each one's key, and returns
// how many it deleted. It is recorded in trail around the work, as the
// system's action: if the request record cannot be written, nothing is
// deleted.
func (v *Vault) Sweep(ctx context.Context, trail audit.Appender) (int, error) {
	act := audit.Action{Name: ActionSweep, Resource: sweepRes, Principal: audit.System,
		Source: audit.Source{Address: "local", UserAgent: "securecart serve: card token sweep"}}
	total := 0
	err := audit.Do(ctx, trail, act, func(ctx context.Context) error {
		for {
			n, err := v.store.SweepCards(ctx, sweepBatch)
			total += n
			if err != nil || n < sweepBatch {
				return err
			}
		}
	})
	return total, err
}

// RunSweeper sweeps at start and then every interval until ctx ends. A
// failed sweep is logged and tried again at the next tick; the tokens it
// missed answer as unknown meanwhile.
func (v *Vault) RunSweeper(ctx context.Context, trail audit.Appender, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		n, err := v.Sweep(ctx, trail)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("sweep card tokens", "err", err)
		case n > 0:
			log.Info("swept card tokens", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
