package audit

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"time"
)

// Append writes r and returns its sequence number once it is durable:
// written and fsynced, together with whatever other appends were waiting
// (group commit). The record is redacted first (Record.Redact).
//
// An error means the record is not acknowledged: ErrUnavailable when the
// disk failed, ErrInvalid for a record that cannot be encoded, ErrClosed,
// or the context's error. After a context error the record may still be
// written later.
func (l *Log) Append(ctx context.Context, r *Record) (uint64, error) {
	p, err := newPending(r)
	if err != nil {
		return 0, err
	}
	p.done = make(chan result, 1)
	if err := l.enqueue(ctx, p); err != nil {
		return 0, err
	}
	select {
	case res := <-p.done:
		return res.seq, res.err
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

// AppendAsync queues r to be written with the next batch and returns
// without waiting for it; then is called, from the log's writer, with
// what Append would have returned. It is for records nothing waits on,
// such as the outcome of a request already answered: they share the
// fsyncs of the records that are waited on. then must be quick. An error
// returned means the record was not queued and then is not called.
func (l *Log) AppendAsync(r *Record, then func(seq uint64, err error)) error {
	p, err := newPending(r)
	if err != nil {
		return err
	}
	p.then = then
	return l.enqueue(context.Background(), p)
}

func newPending(r *Record) (*pending, error) {
	red, scanned := r.redact()
	rec, err := red.appendEncode(make([]byte, 0, 512), scanned)
	if err != nil {
		return nil, err
	}
	return &pending{rec: rec, leaf: leafHash(rec)}, nil
}

func (l *Log) enqueue(ctx context.Context, p *pending) error {
	l.closeMu.RLock()
	defer l.closeMu.RUnlock()
	if l.closed {
		return ErrClosed
	}
	select {
	case l.queue <- p:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// answer tells p's appender how its write ended.
func (p *pending) answer(res result) {
	if p.then != nil {
		p.then(res.seq, res.err)
		return
	}
	p.done <- res
}

// write is the writer goroutine: it takes whatever appends are waiting and
// commits them with one write and one fsync.
func (l *Log) write() {
	defer close(l.done)
	batch := make([]*pending, 0, l.opts.MaxBatch)
	last := 0 // size of the previous batch
	lazy := time.NewTimer(time.Hour)
	lazy.Stop()
	for {
		var p *pending
		select {
		case p = <-l.queue:
		case <-l.stop:
			select {
			case p = <-l.queue:
			default:
				return
			}
		}
		batch = append(batch[:0], p)
		size := len(p.rec)
		waited := p.then == nil // someone waits on the batch
		held := false
		// The appends answered by the last batch are likely encoding their
		// next record: give them the processor before gathering, so that
		// one fsync serves them rather than a fraction of them.
		for try := 0; try < 4 && len(l.queue) < last/2; try++ {
			runtime.Gosched()
		}
	gather:
		for len(batch) < l.opts.MaxBatch && size < maxBatchBytes-frameMaxBody {
			var q *pending
			select {
			case q = <-l.queue:
			default:
				if waited || held {
					break gather
				}
				// Nobody waits on these records (outcomes of requests
				// already answered): hold them a moment for one that is
				// waited on, so that they share its fsync instead of
				// costing one that it would queue behind.
				held = true
				lazy.Reset(lazyHold)
				select {
				case q = <-l.queue:
					lazy.Stop()
				case <-lazy.C:
					break gather
				case <-l.stop:
					lazy.Stop()
					break gather
				}
			}
			batch = append(batch, q)
			size += len(q.rec)
			waited = waited || q.then == nil
		}
		l.commit(batch)
		last = len(batch)
		clear(batch)
	}
}

// lazyHold bounds how long records nobody waits on are held for a batch
// that someone waits on.
const lazyHold = 2 * time.Millisecond

// commit makes one batch durable and answers its appends.
func (l *Log) commit(batch []*pending) {
	fail := func(err error) {
		err = fmt.Errorf("%w: %w", ErrUnavailable, err)
		l.mu.Lock()
		l.lastErr = err
		l.mu.Unlock()
		for _, p := range batch {
			p.answer(result{err: err})
		}
	}
	if l.segBroke {
		if err := l.reopenSegment(); err != nil {
			fail(err)
			return
		}
	}

	first := l.tree.End()
	buf := l.buf[:0]
	for i, p := range batch {
		buf = appendFrame(buf, first+uint64(i), p.rec)
	}
	l.buf = buf
	saved := cloneHashes(l.tree.Hashes())

	// A large batch is hashed into the tree while the disk syncs; a small
	// one before the write, where a helper goroutine would cost more than
	// the hashing. Either way the tree is put back if the batch fails.
	rootc := make(chan []byte, 1)
	hash := func() {
		for _, p := range batch {
			l.tree.Append(p.leaf, nil)
		}
		root, _ := l.tree.GetRootHash(nil)
		rootc <- root
	}
	if len(batch) < 16 {
		hash()
	}
	_, err := l.seg.Write(buf)
	if err == nil {
		if len(batch) >= 16 {
			go hash()
		}
		err = l.seg.Sync()
	} else if len(batch) >= 16 {
		hash()
	}
	root := <-rootc
	if err != nil {
		l.segBroke = true
		l.tree, _ = l.ranges.NewRange(0, first, saved)
		fail(fmt.Errorf("write segment: %w", err))
		return
	}

	l.segOff += int64(len(buf))
	l.mu.Lock()
	l.size, l.root, l.lastErr = l.tree.End(), root, nil
	l.mu.Unlock()
	for i, p := range batch {
		p.answer(result{seq: first + uint64(i)})
	}
	if l.segOff >= l.opts.SegmentSize {
		// On failure the current segment grows on; the next commit tries
		// again.
		if err := l.startSegment(l.tree.End()); err != nil {
			l.mu.Lock()
			l.lastErr = err
			l.mu.Unlock()
		}
	}
}

// reopenSegment reopens the current segment after a failed write and cuts
// it back to its last durable frame. A page whose write failed may be
// reported clean by a later fsync, so nothing after segOff is trusted.
func (l *Log) reopenSegment() error {
	l.seg.Close()
	f, err := l.opts.fs.OpenFile(l.segPath, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("reopen segment: %w", err)
	}
	if err := truncSync(f, l.segOff); err != nil {
		f.Close()
		return fmt.Errorf("truncate segment: %w", err)
	}
	l.seg, l.segBroke = f, false
	return nil
}

func cloneHashes(h [][]byte) [][]byte {
	out := make([][]byte, len(h))
	for i := range h {
		out[i] = slices.Clone(h[i])
	}
	return out
}

// Head returns the number of durable records and the root hash of the
// tree they form.
func (l *Log) Head() (size uint64, root []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.size, slices.Clone(l.root)
}

// LastCheckpoint returns the latest checkpoint written (zero before the
// first).
func (l *Log) LastCheckpoint() Checkpoint {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	return l.cpLast
}

// Health returns the last error of the log's background work: a failed
// append, rotation, checkpoint or Publish. It is nil once the log has
// recovered.
func (l *Log) Health() error {
	l.mu.Lock()
	err := l.lastErr
	l.mu.Unlock()
	if err != nil {
		return err
	}
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	return l.cpErr
}

func (l *Log) checkpointLoop() {
	defer close(l.cpEnd)
	t := time.NewTicker(l.opts.CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			l.Checkpoint(context.Background())
		case <-l.stop:
			return
		}
	}
}

// Checkpoint signs and stores a checkpoint of the durable records now, if
// any were added since the last one, and returns the signed note (nil if
// there was nothing new). The log does this every CheckpointEvery and at
// Close.
func (l *Log) Checkpoint(ctx context.Context) ([]byte, error) {
	l.cpMu.Lock()
	defer l.cpMu.Unlock()
	l.mu.Lock()
	size, root := l.size, l.root
	l.mu.Unlock()
	if size == l.cpLast.Size {
		return nil, nil
	}
	now := l.opts.Now().UTC()
	if now.Before(l.cpLast.Time) {
		now = l.cpLast.Time
	}
	c := Checkpoint{Origin: l.opts.Origin, Size: size, Root: root, Time: now, Number: l.cpLast.Number + 1}
	signed, err := signCheckpoint(c, l.opts.Signer)
	if err != nil {
		l.cpErr = fmt.Errorf("sign checkpoint: %w", err)
		return nil, l.cpErr
	}
	if err := l.writeCheckpoint(signed); err != nil {
		l.cpErr = fmt.Errorf("%w: %w", ErrUnavailable, err)
		return nil, l.cpErr
	}
	l.cpLast, l.cpErr = c, nil
	if l.opts.Publish != nil {
		if err := l.opts.Publish(ctx, signed); err != nil {
			l.cpErr = fmt.Errorf("publish checkpoint %d: %w", c.Number, err)
		}
	}
	return signed, nil
}

func (l *Log) writeCheckpoint(signed []byte) error {
	if l.cpBroke {
		l.cp.Close()
		f, err := l.opts.fs.OpenFile(l.dir+"/"+CheckpointsFile, os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("reopen checkpoints: %w", err)
		}
		l.cp = f
		if err := truncSync(f, l.cpOff); err != nil {
			return fmt.Errorf("truncate checkpoints: %w", err)
		}
		l.cpBroke = false
	}
	if _, err := l.cp.Write(signed); err != nil {
		l.cpBroke = true
		return fmt.Errorf("write checkpoint: %w", err)
	}
	if err := l.cp.Sync(); err != nil {
		l.cpBroke = true
		return fmt.Errorf("sync checkpoints: %w", err)
	}
	l.cpOff += int64(len(signed))
	return nil
}

// Close waits for pending appends, writes a last checkpoint and closes the
// files.
func (l *Log) Close() error {
	l.closeMu.Lock()
	if l.closed {
		l.closeMu.Unlock()
		return nil
	}
	l.closed = true
	l.closeMu.Unlock()
	close(l.stop)
	<-l.done
	<-l.cpEnd
	_, err := l.Checkpoint(context.Background())
	l.closeFiles()
	return err
}

// file is what the log needs of an open file.
type file interface {
	Write([]byte) (int, error)
	Sync() error
	Truncate(int64) error
	Close() error
}

// fileSystem opens files and syncs directories; tests replace it to make
// the disk fail.
type fileSystem interface {
	OpenFile(name string, flag int, perm os.FileMode) (file, error)
	SyncDir(dir string) error
}

type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	return os.OpenFile(name, flag, perm)
}

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
