package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/securecart/securecart/internal/deploy"
)

// archiveWait bounds the last copy of the audit trail at shutdown.
const archiveWait = 30 * time.Second

// archiveAudit starts copying the audit trail to object storage in the
// background. The returned stop, called once the trail is closed, ends
// the copying and makes one last pass, which ships the final checkpoint.
func archiveAudit(ctx context.Context, d *deploy.Deployment, log *slog.Logger) (stop func(), err error) {
	obj, err := deploy.OpenObjectsLater(ctx, d.Config)
	if obj == nil {
		return nil, err
	}
	if err != nil {
		// Each pass fails until object storage answers, then catches up.
		log.Warn("object storage unreachable at start; the audit archive will catch up once it answers", "err", err)
		go deploy.EnsureBucketsLater(ctx, obj, 10*time.Second)
	}
	arch, err := d.AuditArchiver(ctx, obj, log)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() {
		defer close(done)
		arch.Run(runCtx)
	}()
	return func() {
		cancel()
		<-done
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), archiveWait)
		defer cancel()
		if err := arch.Sync(ctx); err != nil {
			log.Warn("archive audit trail at shutdown", "err", err)
		}
	}, nil
}
