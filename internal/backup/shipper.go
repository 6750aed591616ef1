package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/store"
)

// Options tune a Shipper. Zero values take the defaults.
type Options struct {
	// Interval is the longest a committed change waits before it is
	// shipped (default 1s).
	Interval time.Duration
	// SnapshotInterval is the time between snapshots (default 24h).
	SnapshotInterval time.Duration
	// KeystoreInterval is the shortest time between two keystore snapshots
	// taken because keys changed (default 1 minute). The keystore is also
	// snapshotted before the first segment sealed with a new backup key.
	KeystoreInterval time.Duration
	// Retention is the restore window (default 7 days).
	Retention time.Duration
	// MaxBackoff caps the wait between retries when storage fails
	// (default 8s).
	MaxBackoff time.Duration
	// Logger receives shipping failures and recoveries.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Shipped, when set, is called after each segment is durable with its
	// changes and the time the upload finished.
	Shipped func(changes []store.Change, done time.Time)
	// Around, if set, runs each scheduled snapshot and verification: it is
	// given the job (JobSnapshot, JobVerify) and must call run for it to
	// happen. A server records the job in its audit trail around it.
	Around func(ctx context.Context, job string, run func(context.Context) error) error
}

// Scheduled jobs, as Around names them.
const (
	JobSnapshot = "snapshot"
	JobVerify   = "verify"
)

// around runs fn through Around, if set.
func (o *Options) around(ctx context.Context, job string, fn func(context.Context) error) error {
	if o.Around == nil {
		return fn(ctx)
	}
	return o.Around(ctx, job, fn)
}

func (o *Options) defaults() {
	if o.Interval <= 0 {
		o.Interval = time.Second
	}
	if o.SnapshotInterval <= 0 {
		o.SnapshotInterval = 24 * time.Hour
	}
	if o.KeystoreInterval <= 0 {
		o.KeystoreInterval = time.Minute
	}
	if o.Retention <= 0 {
		o.Retention = 7 * 24 * time.Hour
	}
	if o.MaxBackoff <= 0 {
		o.MaxBackoff = 8 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

func (s *Shipper) now() time.Time { return s.opts.Now().UTC() }

// Log keys.
const (
	logErr      = "err"
	logShipped  = "shipped"
	logFailures = "failures"
)

// Shipper ships the store's change log to object storage and takes the
// snapshots. One Shipper runs per deployment.
type Shipper struct {
	st   *store.Store
	ks   Keystore
	obj  objstore.Store
	id   string
	opts Options
	log  *slog.Logger

	shipMu sync.Mutex // one shipping pass at a time

	mu           sync.Mutex
	shipped      int64
	pendingSince time.Time // commit time of the oldest change seen unshipped
	failures     int
	lastErr      error
	lastShip     time.Time
	lastSnapshot time.Time
	lastKeystore time.Time
	ksGen        string
	ksKeyID      uint64 // backup data key covered by the newest keystore snapshot
}

// NewShipper prepares a shipper for the store st, sealing with ks and
// writing to obj. It creates the deployment id on first use.
func NewShipper(ctx context.Context, st *store.Store, ks Keystore, obj objstore.Store, opts Options) (*Shipper, error) {
	opts.defaults()
	id, err := DeploymentID(ctx, st.DB())
	if err != nil {
		return nil, err
	}
	shipped, err := readShipped(ctx, st.DB())
	if err != nil {
		return nil, err
	}
	if err := ensureKey(ctx, st.DB(), ks, owner(id)); err != nil {
		return nil, err
	}
	return &Shipper{st: st, ks: ks, obj: obj, id: id, opts: opts, log: opts.Logger, shipped: shipped}, nil
}

// Deployment returns the deployment id the backups are filed under.
func (s *Shipper) Deployment() string { return s.id }

// Status is the shipper's state, for metrics and the status endpoint.
type Status struct {
	Deployment   string
	Shipped      int64
	Lag          time.Duration
	Failures     int
	LastError    string
	LastShip     time.Time
	LastSnapshot time.Time
	LastKeystore time.Time
}

// Lag is how long the oldest committed change known to be unshipped has
// waited; zero when the last pass found nothing left. It grows while
// storage is unreachable and falls back once shipping catches up.
func (s *Shipper) Lag() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pendingSince.IsZero() {
		return 0
	}
	return max(0, s.now().Sub(s.pendingSince))
}

// Status returns the shipper's state.
func (s *Shipper) Status() Status {
	lag := s.Lag()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Deployment: s.id, Shipped: s.shipped, Lag: lag, Failures: s.failures,
		LastShip: s.lastShip, LastSnapshot: s.lastSnapshot, LastKeystore: s.lastKeystore}
	if s.lastErr != nil {
		st.LastError = s.lastErr.Error()
	}
	return st
}

// ShipOnce ships every change committed so far, in segments of up to
// store.MaxChangesRead changes, and returns the last position shipped.
func (s *Shipper) ShipOnce(ctx context.Context) (int64, error) {
	s.shipMu.Lock()
	defer s.shipMu.Unlock()
	for {
		s.mu.Lock()
		after := s.shipped
		s.mu.Unlock()
		cs, err := s.st.ReadChanges(ctx, after, store.MaxChangesRead)
		if err != nil {
			return after, err
		}
		if len(cs) == 0 {
			s.mu.Lock()
			s.pendingSince = time.Time{}
			s.mu.Unlock()
			return after, nil
		}
		s.mu.Lock()
		if s.pendingSince.IsZero() {
			s.pendingSince = cs[0].At
		}
		s.mu.Unlock()
		if err := s.shipSegment(ctx, cs); err != nil {
			return after, err
		}
	}
}

func (s *Shipper) shipSegment(ctx context.Context, cs []store.Change) error {
	first, last := cs[0].Pos, cs[len(cs)-1].Pos
	if first != s.shipped+1 {
		return fmt.Errorf("ship: change log starts at %d, want %d (pruned before shipping?)", first, s.shipped+1)
	}
	plain, err := encodeSegment(s.id, cs)
	if err != nil {
		return err
	}
	name := segmentName(first, last)
	sealed, err := seal(ctx, s.ks, s.id, name, plain)
	if err != nil {
		return fmt.Errorf("ship %s: %w", name, err)
	}
	if h, _ := envelope.Parse(sealed); h.KeyID != s.ksKeyID {
		// A restore needs this key: make sure the keystore's backup holds
		// it before the first segment it sealed.
		if err := s.SnapshotKeystore(ctx); err != nil {
			return err
		}
		s.ksKeyID = h.KeyID
	}
	if _, err := s.obj.Put(ctx, objstore.Backups, key(s.id, name), sealed, objstore.Standard); err != nil {
		return fmt.Errorf("ship %s: %w", name, err)
	}
	if err := writeShipped(ctx, s.st.DB(), last); err != nil {
		return err
	}
	done := s.now()
	s.mu.Lock()
	s.shipped = last
	s.lastShip = done
	s.pendingSince = time.Time{}
	s.mu.Unlock()
	if s.opts.Shipped != nil {
		s.opts.Shipped(cs, done)
	}
	return nil
}

// Run ships changes every Interval and runs the snapshots and retention
// until ctx ends. When storage fails it retries with exponential backoff
// up to MaxBackoff and keeps the lag visible in Status. On the way out it
// makes one last attempt to ship what is pending.
func (s *Shipper) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.maintainLoop(ctx)
	}()
	defer wg.Wait()

	wait := s.opts.Interval
	for {
		select {
		case <-ctx.Done():
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			s.ShipOnce(final)
			cancel()
			return nil
		case <-time.After(wait):
		}
		start := time.Now()
		_, err := s.ShipOnce(ctx)
		wait = s.afterPass(ctx, err)
		if err == nil {
			// Passes start an interval apart, however long one took, so a
			// change waits at most an interval and one pass.
			wait = max(0, wait-time.Since(start))
		}
	}
}

// afterPass records a shipping pass's outcome and returns the wait before
// the next one.
func (s *Shipper) afterPass(ctx context.Context, err error) time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err == nil || ctx.Err() != nil {
		if s.failures > 0 {
			s.log.Info("backup shipping recovered", logFailures, s.failures, logShipped, s.shipped)
		}
		s.failures, s.lastErr = 0, nil
		return s.opts.Interval
	}
	s.failures++
	s.lastErr = err
	s.log.Warn("backup shipping failed; retrying", logErr, err, logFailures, s.failures)
	wait := s.opts.Interval
	for i := 1; i < s.failures && wait < s.opts.MaxBackoff; i++ {
		wait *= 2
	}
	return min(wait, s.opts.MaxBackoff)
}

func (s *Shipper) maintainLoop(ctx context.Context) {
	tick := min(s.opts.KeystoreInterval, time.Minute)
	for {
		if err := s.Maintain(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("backup maintenance failed", logErr, err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(tick):
		}
	}
}

// Maintain takes a snapshot when one is due, a keystore snapshot when the
// keys changed, applies the retention window and prunes the shipped part
// of the change log.
func (s *Shipper) Maintain(ctx context.Context) error {
	s.mu.Lock()
	lastSnap, lastKS, gen, shipped := s.lastSnapshot, s.lastKeystore, s.ksGen, s.shipped
	s.mu.Unlock()

	if lastSnap.IsZero() {
		c, err := ReadCatalog(ctx, s.obj, s.id)
		if err != nil {
			return err
		}
		if n := len(c.Snapshots); n > 0 {
			lastSnap = c.Snapshots[n-1].TakenAt
		}
	}
	var errs []error
	if s.now().Sub(lastSnap) >= s.opts.SnapshotInterval {
		err := s.opts.around(ctx, JobSnapshot, func(ctx context.Context) error {
			_, err := s.Snapshot(ctx)
			return err
		})
		if err != nil {
			errs = append(errs, err)
		}
	}
	cur, err := s.ks.Generation(ctx)
	if err != nil {
		errs = append(errs, err)
	} else if cur != gen && s.now().Sub(lastKS) >= s.opts.KeystoreInterval {
		errs = append(errs, s.SnapshotKeystore(ctx))
	}
	if _, err := s.ApplyRetention(ctx); err != nil {
		errs = append(errs, err)
	}
	if shipped > 0 {
		if _, err := s.st.PruneChanges(ctx, shipped); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// ApplyRetention deletes what the restore window no longer needs: the
// snapshots older than the newest one taken before the window starts, the
// segments that snapshot already contains, and interrupted snapshots older
// than the window. It returns how many objects it deleted.
func (s *Shipper) ApplyRetention(ctx context.Context) (int, error) {
	c, err := ReadCatalog(ctx, s.obj, s.id)
	if err != nil {
		return 0, err
	}
	cutoff := s.now().Add(-s.opts.Retention)
	base := -1
	for i, sn := range c.Snapshots {
		if !sn.TakenAt.After(cutoff) {
			base = i
		}
	}
	var doomed []string
	if base > 0 {
		for _, sn := range c.Snapshots[:base] {
			doomed = append(doomed, sn.Dir+"/")
		}
	}
	for _, dir := range c.Incomplete {
		if _, at, ok := parseSnapshotDir(dir); ok && at.Before(cutoff) {
			doomed = append(doomed, dir+"/")
		}
	}
	n := 0
	for _, prefix := range doomed {
		objs, err := s.obj.List(ctx, objstore.Backups, key(s.id, prefix))
		if err != nil {
			return n, err
		}
		for _, o := range objs {
			if err := s.obj.Delete(ctx, objstore.Backups, o.Key); err != nil {
				return n, err
			}
			n++
		}
	}
	if base >= 0 {
		for _, seg := range c.Segments {
			if seg.Last > c.Snapshots[base].Pos {
				continue
			}
			if err := s.obj.Delete(ctx, objstore.Backups, key(s.id, seg.Name)); err != nil {
				return n, err
			}
			n++
		}
	}
	return n, nil
}

// ensureKey gives the deployment's backups a data key of their own in the
// backup domain, the first time.
func ensureKey(ctx context.Context, db sqldb.DB, ks Keystore, owner string) error {
	_, err := ks.OwnerKeyID(ctx, envelope.Backup, owner)
	if !errors.Is(err, keys.ErrNoActiveKey) {
		return err
	}
	dk, err := ks.NewDataKey(ctx, envelope.Backup)
	if err != nil {
		return fmt.Errorf("backup key: %w", err)
	}
	if err := db.Write(ctx, func(tx sqldb.Tx) error { return ks.Assign(ctx, tx, dk, owner) }); err != nil {
		return fmt.Errorf("backup key: %w", err)
	}
	ks.Assigned(dk, owner)
	return nil
}
