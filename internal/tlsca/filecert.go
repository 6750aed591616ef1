package tlsca

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultPollInterval is how often FileCert looks at its files.
const DefaultPollInterval = 10 * time.Second

// FileOptions configure OpenFileCert.
type FileOptions struct {
	// Interval between checks of the files; zero means DefaultPollInterval.
	Interval time.Duration
	// Clock drives polling and the expiry check; nil means the system clock.
	Clock Clock
	// OnError receives each failed reload noticed by polling, once per
	// change of the files. Nil drops them.
	OnError func(error)
}

// FileCert serves a certificate and key from files the operator provides,
// and reloads them when they change.
type FileCert struct {
	certPath, keyPath string
	opts              FileOptions
	clock             Clock
	current           atomic.Pointer[tls.Certificate]

	mu   sync.Mutex // serializes reloads; guards seen
	seen fileStamp  // the files as of the last reload attempt

	cancel    context.CancelFunc
	done      chan struct{}
	closeOnce sync.Once
}

// fileStamp identifies a version of the two files.
type fileStamp struct {
	certMod, certSize int64 // modification time in Unix nanoseconds, size
	keyMod, keySize   int64
}

// OpenFileCert loads the pair, which must be valid, and watches the files
// until ctx ends or Close is called.
func OpenFileCert(ctx context.Context, certPath, keyPath string, opts FileOptions) (*FileCert, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultPollInterval
	}
	f := &FileCert{
		certPath: certPath,
		keyPath:  keyPath,
		opts:     opts,
		clock:    clockOrSystem(opts.Clock),
		done:     make(chan struct{}),
	}
	if err := f.Reload(); err != nil {
		return nil, err
	}
	ctx, f.cancel = context.WithCancel(ctx)
	go f.run(ctx)
	return f, nil
}

// GetCertificate returns the current certificate; it has the signature of
// tls.Config.GetCertificate.
func (f *FileCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.current.Load(), nil
}

// Certificate returns the current certificate. The caller must not modify
// it.
func (f *FileCert) Certificate() *tls.Certificate { return f.current.Load() }

// Reload reads both files now, whether or not they changed. On failure the
// previous certificate stays in service and the error is returned.
func (f *FileCert) Reload() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.reloadLocked()
}

// Close stops watching the files and waits for the watcher to finish. The
// last certificate stays available.
func (f *FileCert) Close() error {
	f.closeOnce.Do(f.cancel)
	<-f.done
	return nil
}

// String names the files and the current certificate, not the key.
func (f *FileCert) String() string {
	leaf := f.current.Load().Leaf
	return fmt.Sprintf("tlsca.FileCert(%s, serial %x, until %s)",
		f.certPath, leaf.SerialNumber, leaf.NotAfter.Format(time.RFC3339))
}

func (f *FileCert) run(ctx context.Context) {
	defer close(f.done)
	for {
		select {
		case <-ctx.Done():
			return
		case <-f.clock.After(f.opts.Interval):
		}
		if err := f.reloadIfChanged(); err != nil && f.opts.OnError != nil {
			f.opts.OnError(err)
		}
	}
}

// reloadIfChanged reloads when either file's modification time or size
// differs from the last attempt, successful or not, so that a broken file
// is reported once rather than at every poll.
func (f *FileCert) reloadIfChanged() error {
	f.mu.Lock()
	defer f.mu.Unlock()

	stamp, err := f.stamp()
	if err != nil {
		// A file missing for a moment (replaced by rename) is not worth
		// reporting at every poll either; report it once.
		if f.seen == (fileStamp{}) {
			return nil
		}
		f.seen = fileStamp{}
		return fmt.Errorf("reload certificate: %w", err)
	}
	if stamp == f.seen {
		return nil
	}
	return f.reloadLocked()
}

// reloadLocked reads and checks the pair and, if it is good, serves it.
// The stamp is taken before reading, so that a write racing the read is
// noticed at the next poll.
func (f *FileCert) reloadLocked() error {
	stamp, err := f.stamp()
	if err != nil {
		return fmt.Errorf("reload certificate: %w", err)
	}
	f.seen = stamp

	cert, err := loadPair(f.certPath, f.keyPath, f.clock.Now())
	if err != nil {
		return fmt.Errorf("reload certificate %s: %w", f.certPath, err)
	}
	f.current.Store(cert)
	return nil
}

func (f *FileCert) stamp() (fileStamp, error) {
	c, err := os.Stat(f.certPath)
	if err != nil {
		return fileStamp{}, err
	}
	k, err := os.Stat(f.keyPath)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{
		certMod: c.ModTime().UnixNano(), certSize: c.Size(),
		keyMod: k.ModTime().UnixNano(), keySize: k.Size(),
	}, nil
}

// loadPair reads a certificate chain and its key, refusing a key file that
// others can read and a certificate that has expired.
func loadPair(certPath, keyPath string, now time.Time) (*tls.Certificate, error) {
	certPEM, err := readLimited(certPath, maxOperatorFileSize)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readKeyFile(keyPath, 0o007, maxOperatorFileSize)
	if err != nil {
		return nil, err
	}
	defer clear(keyPEM)

	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("parse key pair: %w", err)
	}
	if cert.Leaf == nil {
		return nil, errors.New("parse key pair: no leaf certificate")
	}
	if now.After(cert.Leaf.NotAfter) {
		expiry := cert.Leaf.NotAfter.Format(time.RFC3339)
		return nil, fmt.Errorf("check certificate: expired at %s", expiry)
	}
	return &cert, nil
}
