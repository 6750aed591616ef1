package audit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/transparency-dev/merkle/compact"
	"golang.org/x/mod/sumdb/note"
)

// Errors of the log.
var (
	// ErrUnavailable means a record or checkpoint could not be made
	// durable (the disk refused a write or an fsync). The log tries again
	// on the next append; nothing the call was given is acknowledged.
	ErrUnavailable = errors.New("audit: log unavailable")
	// ErrClosed means the log was closed.
	ErrClosed = errors.New("audit: log closed")
	// ErrCorrupt means the files hold something a crash cannot explain;
	// Open refuses them and `securecart audit verify` says where.
	ErrCorrupt = errors.New("audit: log corrupt")
)

// Names in the data directory.
const (
	// DirName is the audit directory's name in the data directory.
	DirName = "audit"
	// CheckpointsFile is the name of the checkpoints file in the audit
	// directory.
	CheckpointsFile = "checkpoints"
	// lockFile is held, locked, by the one process that appends.
	lockFile = "lock"
)

// DefaultOrigin is the origin of a single node's log when the
// configuration names none.
const DefaultOrigin = "securecart.local/audit"

// ErrLocked means another process has the log open for appending.
var ErrLocked = errors.New("audit: log in use by another process")

// Options configure a Log. Origin and Signer are required.
type Options struct {
	// Origin names the log in its checkpoints, such as
	// "shop.example.com/securecart/audit". It must equal Signer.Name().
	Origin string
	// Signer signs checkpoints (keys.Keystore.AuditSigner).
	Signer note.Signer
	// CheckpointEvery is the checkpoint interval (default one second).
	CheckpointEvery time.Duration
	// SegmentSize is the size at which a new segment is started
	// (default 64 MiB).
	SegmentSize int64
	// MaxBatch bounds the records written by one write and fsync
	// (default 1024).
	MaxBatch int
	// Publish, if set, receives every signed checkpoint once it is
	// durable in the directory, to keep a copy elsewhere (object
	// storage). Its errors are reported by Health.
	Publish func(ctx context.Context, signed []byte) error
	// Now is the clock for checkpoints (default time.Now).
	Now func() time.Time

	fs fileSystem
}

// maxBatchBytes bounds the bytes of one write, and so what a crash can
// leave torn at the end of a segment.
const maxBatchBytes = 4 << 20

// Log is an open audit log. Its methods are safe for concurrent use.
type Log struct {
	dir   string
	opts  Options
	lock  *os.File
	queue chan *pending
	stop  chan struct{}
	done  chan struct{}
	cpEnd chan struct{}

	closeMu sync.RWMutex
	closed  bool

	// Owned by the writer goroutine.
	th       *treeHasher
	ranges   *compact.RangeFactory
	seg      file
	segPath  string
	segOff   int64 // end of the last durable frame
	segBroke bool
	tree     *compact.Range
	buf      []byte

	mu      sync.Mutex
	size    uint64
	root    []byte
	lastErr error

	cpMu    sync.Mutex
	cp      file
	cpOff   int64
	cpBroke bool
	cpLast  Checkpoint
	cpErr   error
}

// pending is one queued record: Append waits on done, AppendAsync's
// caller is called back through then.
type pending struct {
	rec  []byte
	leaf []byte
	done chan result
	then func(seq uint64, err error)
}

type result struct {
	seq uint64
	err error
}

// Open opens the log in dir, creating it if needed. A record cut short at
// the end of the last segment (a crash during a write that was never
// acknowledged) is removed; anything else out of place is ErrCorrupt.
// Records not covered by a checkpoint are checkpointed at once.
func Open(dir string, opts Options) (*Log, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create audit directory: %w", err)
	}
	lock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	th := newTreeHasher()
	l := &Log{
		dir: dir, opts: opts, lock: lock,
		th: th, ranges: &compact.RangeFactory{Hash: th.children},
		queue: make(chan *pending, opts.MaxBatch),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
		cpEnd: make(chan struct{}),
	}
	last, err := l.recoverCheckpoints()
	if err != nil {
		l.closeFiles()
		return nil, err
	}
	if err := l.recoverSegments(last); err != nil {
		l.closeFiles()
		return nil, err
	}
	go l.write()
	go l.checkpointLoop()
	if l.size > last.Size {
		if _, err := l.Checkpoint(context.Background()); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

func (o *Options) defaults() error {
	if o.Signer == nil {
		return errors.New("audit: no checkpoint signer")
	}
	if o.Origin == "" || o.Origin != o.Signer.Name() {
		return fmt.Errorf("audit: origin %q must be the signer's name %q", o.Origin, o.Signer.Name())
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = time.Second
	}
	if o.SegmentSize <= 0 {
		o.SegmentSize = 64 << 20
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 1024
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.fs == nil {
		o.fs = osFS{}
	}
	return nil
}

// recoverCheckpoints reads the checkpoints file, drops a torn last
// checkpoint, opens the file for appending and returns the last one.
func (l *Log) recoverCheckpoints() (Checkpoint, error) {
	path := filepath.Join(l.dir, CheckpointsFile)
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return Checkpoint{}, fmt.Errorf("read checkpoints: %w", err)
	}
	notes, torn := splitNotes(data)
	var last Checkpoint
	if len(notes) > 0 {
		n := notes[len(notes)-1]
		text, _, _ := cutNote(n)
		if last, err = ParseCheckpoint(text); err != nil {
			return Checkpoint{}, fmt.Errorf("%w: last checkpoint: %w", ErrCorrupt, err)
		}
		if last.Origin != l.opts.Origin {
			return Checkpoint{}, fmt.Errorf("%w: the log's origin is %q, not %q", ErrCorrupt, last.Origin, l.opts.Origin)
		}
	}
	f, err := l.opts.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return Checkpoint{}, fmt.Errorf("open checkpoints: %w", err)
	}
	if torn < len(data) {
		if err := truncSync(f, int64(torn)); err != nil {
			f.Close()
			return Checkpoint{}, fmt.Errorf("truncate torn checkpoint: %w", err)
		}
	}
	l.cp, l.cpOff, l.cpLast = f, int64(torn), last
	return last, nil
}

// cutNote splits a signed note into its text (with the final newline) and
// its signature lines.
func cutNote(n []byte) (text string, sigs string, ok bool) {
	i := indexBlank(n)
	if i < 0 {
		return "", "", false
	}
	return string(n[:i+1]), string(n[i+2:]), true
}

func indexBlank(b []byte) int {
	for i := 0; i+1 < len(b); i++ {
		if b[i] == '\n' && b[i+1] == '\n' {
			return i
		}
	}
	return -1
}

// recoverSegments replays every segment into the tree, checks the last
// checkpoint against it and opens the last segment for appending.
func (l *Log) recoverSegments(last Checkpoint) error {
	segs, err := listSegments(l.dir)
	if err != nil {
		return err
	}
	if len(segs) == 0 {
		l.tree = l.ranges.NewEmptyRange(0)
		return l.startSegment(0)
	}
	var checked bool
	for i, s := range segs {
		isLast := i == len(segs)-1
		f, rng, fr, err := openSegment(s.path)
		if err != nil && isLast && i > 0 && errors.Is(err, errHeader) {
			// A crash while a new segment's header was written.
			if err := os.Remove(s.path); err != nil {
				return fmt.Errorf("remove torn segment: %w", err)
			}
			return l.resumeSegment(segs[i-1].path)
		}
		if err != nil {
			return fmt.Errorf("%w: segment %s: %w", ErrCorrupt, filepath.Base(s.path), err)
		}
		if rng.End() != s.first || (l.tree != nil && !sameRange(rng, l.tree)) {
			f.Close()
			return fmt.Errorf("%w: segment %s does not continue the log", ErrCorrupt, filepath.Base(s.path))
		}
		if l.tree == nil {
			if l.tree, err = l.ranges.NewRange(0, rng.End(), cloneHashes(rng.Hashes())); err != nil {
				f.Close()
				return fmt.Errorf("%w: segment %s: %w", ErrCorrupt, filepath.Base(s.path), err)
			}
		}
		end, err := l.replay(fr, last, &checked)
		size := fileSize(f)
		f.Close()
		torn := errors.Is(err, errTorn) || errors.Is(err, errFrame)
		if err != nil && (!isLast || !torn || size-end > maxBatchBytes+frameHead) {
			return fmt.Errorf("%w: segment %s at record %d: %w", ErrCorrupt,
				filepath.Base(s.path), l.tree.End(), err)
		}
		l.segOff = end
	}
	if last.Size > l.tree.End() || (last.Size > 0 && !checked) {
		return fmt.Errorf("%w: the log has %d records, its last checkpoint %d", ErrCorrupt, l.tree.End(), last.Size)
	}
	return l.resumeSegment(segs[len(segs)-1].path)
}

// replay adds the frames of one segment to the tree and returns the offset
// after the last good frame.
func (l *Log) replay(fr *frameReader, last Checkpoint, checked *bool) (int64, error) {
	for {
		if l.tree.End() == last.Size && last.Size > 0 && !*checked {
			root, _ := l.tree.GetRootHash(nil)
			if !slices.Equal(root, last.Root) {
				return fr.off, fmt.Errorf("root differs from checkpoint %d", last.Number)
			}
			*checked = true
		}
		seq, rec, err := fr.next()
		if err == io.EOF {
			return fr.off, nil
		}
		if err != nil {
			return fr.off, err
		}
		if seq != l.tree.End() {
			return fr.off, fmt.Errorf("found record %d", seq)
		}
		if err := l.tree.Append(l.th.leaf(rec), nil); err != nil {
			return fr.off, err
		}
	}
}

func fileSize(f *os.File) int64 {
	st, err := f.Stat()
	if err != nil {
		return 0
	}
	return st.Size()
}

// resumeSegment opens the last segment for appending after segOff.
func (l *Log) resumeSegment(path string) error {
	f, err := l.opts.fs.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("open segment: %w", err)
	}
	if err := truncSync(f, l.segOff); err != nil {
		f.Close()
		return fmt.Errorf("truncate segment: %w", err)
	}
	l.seg, l.segPath = f, path
	l.publishHead()
	return nil
}

// startSegment creates the segment whose first record is first.
func (l *Log) startSegment(first uint64) error {
	path := filepath.Join(l.dir, segName(first))
	head := segHeader(first, l.tree.Hashes())
	f, err := l.opts.fs.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("create segment: %w", err)
	}
	if _, err := f.Write(head); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write segment header: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("sync segment: %w", err)
	}
	if err := l.opts.fs.SyncDir(l.dir); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("sync audit directory: %w", err)
	}
	if l.seg != nil {
		l.seg.Close()
	}
	l.seg, l.segPath, l.segOff = f, path, int64(len(head))
	l.publishHead()
	return nil
}

func (l *Log) publishHead() {
	root, _ := l.tree.GetRootHash(nil)
	if root == nil {
		root = hasher.EmptyRoot()
	}
	l.mu.Lock()
	l.size, l.root = l.tree.End(), root
	l.mu.Unlock()
}

func truncSync(f file, size int64) error {
	if err := f.Truncate(size); err != nil {
		return err
	}
	return f.Sync()
}

func (l *Log) closeFiles() {
	if l.seg != nil {
		l.seg.Close()
	}
	if l.cp != nil {
		l.cp.Close()
	}
	l.lock.Close() // releases the lock
}

// lockDir takes the directory's append lock.
func lockDir(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrLocked
		}
		return nil, fmt.Errorf("lock audit directory: %w", err)
	}
	return f, nil
}

// LogOrigin returns the origin of the log in dir, read from its first
// checkpoint, or "" if it has none.
func LogOrigin(dir string) (string, error) {
	cps, err := ReadCheckpoints(dir)
	if err != nil || len(cps) == 0 {
		return "", err
	}
	return cps[0].Origin, nil
}
