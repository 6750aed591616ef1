package audit

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"testing"
)

// failFS is the operating system's file system until broken is set; then
// every open for writing fails with EACCES and every write and fsync of
// an open file with EIO, as on a directory made read-only or a disk gone
// bad. Running as root, a chmod would not stop the writes, so the test
// uses this instead.
type failFS struct {
	broken atomic.Bool
}

func (fs *failFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	if fs.broken.Load() && flag&(os.O_WRONLY|os.O_RDWR) != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: syscall.EACCES}
	}
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &failFile{File: f, fs: fs}, nil
}

func (fs *failFS) SyncDir(dir string) error {
	if fs.broken.Load() {
		return syscall.EIO
	}
	return osFS{}.SyncDir(dir)
}

type failFile struct {
	*os.File
	fs *failFS
}

func (f *failFile) Write(b []byte) (int, error) {
	if f.fs.broken.Load() {
		// Half the batch reaches the file, as a failing disk may leave it.
		n, _ := f.File.Write(b[:len(b)/2])
		return n, syscall.EIO
	}
	return f.File.Write(b)
}

func (f *failFile) Sync() error {
	if f.fs.broken.Load() {
		return syscall.EIO
	}
	return f.File.Sync()
}

func TestUnwritableDirectory(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	fs := &failFS{}
	l := openTestLog(t, dir, k, func(o *Options) { o.fs = fs; o.SegmentSize = 2048 })
	appendN(t, l, 0, 20, 4)

	fs.broken.Store(true)
	const tries = 200
	refused := 0
	for i := range tries {
		_, err := l.Append(t.Context(), sampleRecord(1000+i))
		if errors.Is(err, ErrUnavailable) {
			refused++
		} else {
			t.Errorf("append %d on a broken disk: %v", i, err)
		}
	}
	if _, err := l.Checkpoint(t.Context()); !errors.Is(err, ErrUnavailable) {
		t.Errorf("checkpoint on a broken disk: %v", err)
	}
	if l.Health() == nil {
		t.Error("Health is nil on a broken disk")
	}
	t.Logf("unwritable: %d/%d appends refused with ErrUnavailable", refused, tries)

	fs.broken.Store(false)
	seqs := appendN(t, l, 20, 100, 4) // recovers without a restart
	for _, s := range seqs {
		if s < 20 || s >= 120 {
			t.Fatalf("after recovery, sequence number %d; refused appends must not take one", s)
		}
	}
	if _, err := l.Checkpoint(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := l.Health(); err != nil {
		t.Fatalf("Health after recovery: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	rep := mustVerify(t, dir, k, nil)
	if rep.Records != 120 {
		t.Fatalf("%d records, want the 120 acknowledged", rep.Records)
	}
	for e, err := range NewReader(dir).Scan(t.Context(), 0) {
		if err != nil {
			t.Fatal(err)
		}
		if e.Record.RequestID >= "req-00001000" && e.Record.RequestID < "req-00001200" {
			t.Fatalf("refused record %s is in the log", e.Record.RequestID)
		}
	}
}

// TestUnwritableAtRotation breaks the disk just as a segment fills up, so
// that the new segment cannot be created.
func TestUnwritableAtRotation(t *testing.T) {
	dir := t.TempDir()
	k := newTestKey(t)
	fs := &failFS{}
	l := openTestLog(t, dir, k, func(o *Options) { o.fs = fs; o.SegmentSize = 1024 })
	for i := range 60 {
		fs.broken.Store(i%3 == 1)
		l.Append(t.Context(), sampleRecord(i))
	}
	fs.broken.Store(false)
	appendN(t, l, 100, 10, 2)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, dir, k, nil)
	l = openTestLog(t, dir, k, nil)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
}
