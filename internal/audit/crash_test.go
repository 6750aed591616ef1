package audit

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
)

var crashCycles = flag.Int("audit.crash-cycles", 10, "kill -9 cycles in TestCrashUnderLoad")

const (
	crashDirEnv = "SECURECART_AUDIT_CRASH_DIR"
	crashKeyEnv = "SECURECART_AUDIT_CRASH_KEY"
)

// TestMain runs the crash child when the crash test re-executes the test
// binary.
func TestMain(m *testing.M) {
	if dir := os.Getenv(crashDirEnv); dir != "" {
		crashChild(dir, os.Getenv(crashKeyEnv))
		return
	}
	code := m.Run()
	if verifyDir != "" {
		os.RemoveAll(verifyDir)
	}
	os.Exit(code)
}

// crashChild appends from 16 goroutines until it is killed, printing
// "seq request-id" for every acknowledged append.
func crashChild(dir, skey string) {
	s, err := note.NewSigner(skey)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	l, err := Open(dir, Options{Origin: testOrigin, Signer: s,
		CheckpointEvery: 50 * time.Millisecond, SegmentSize: 64 << 10})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				r := sampleRecord(i)
				r.RequestID = fmt.Sprintf("p%d-g%d-%d", os.Getpid(), g, i)
				seq, err := l.Append(context.Background(), r)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(2)
				}
				mu.Lock()
				fmt.Printf("%d %s\n", seq, r.RequestID)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestCrashUnderLoad kills a process appending under load with SIGKILL,
// again and again, and after each kill requires the log to open, verify,
// and hold every record whose append was acknowledged.
func TestCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	skey, vkey, err := note.GenerateKey(nil, testOrigin)
	if err != nil {
		t.Fatal(err)
	}
	v, err := note.NewVerifier(vkey)
	if err != nil {
		t.Fatal(err)
	}
	var totalAcked int
	for cycle := range *crashCycles {
		acked := runCrashChild(t, dir, skey, time.Duration(20+randN(200))*time.Millisecond)
		totalAcked += len(acked)

		// Before reopening: at most the records of the last interval are
		// unsealed; nothing else may be wrong.
		rep, err := Verify(dir, []note.Verifier{v}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range rep.Problems {
			if p.Kind != Unsealed {
				t.Fatalf("cycle %d, before reopening: %v", cycle, p)
			}
		}
		// Reopening seals the tail; then the log verifies cleanly.
		l, err := Open(dir, Options{Origin: testOrigin, Signer: mustSigner(t, skey)})
		if err != nil {
			t.Fatalf("cycle %d: reopen: %v", cycle, err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		rep, err = Verify(dir, []note.Verifier{v}, nil)
		if err != nil || !rep.OK() {
			t.Fatalf("cycle %d: verify: %v %v", cycle, err, rep.Problems)
		}
		got := map[uint64]string{}
		for e, err := range NewReader(dir).Scan(t.Context(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := acked[e.Seq]; ok {
				got[e.Seq] = e.Record.RequestID
			}
		}
		for seq, id := range acked {
			if got[seq] != id {
				t.Fatalf("cycle %d: acknowledged record %d (%s) is %q after the crash", cycle, seq, id, got[seq])
			}
		}
	}
	t.Logf("%d kill -9 cycles, %d acknowledged appends, all present; log verifies after each", *crashCycles, totalAcked)
}

func mustSigner(t *testing.T, skey string) note.Signer {
	s, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// runCrashChild starts the child, lets it append for d after its first
// acknowledged append, kills it with SIGKILL and returns the appends it
// acknowledged.
func runCrashChild(t *testing.T, dir, skey string, d time.Duration) map[uint64]string {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), crashDirEnv+"="+dir, crashKeyEnv+"="+skey)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]string{}
	sc := bufio.NewScanner(out)
	first := make(chan struct{}) // closed at the first acknowledgement
	done := make(chan struct{})
	go func() {
		defer close(done)
		for sc.Scan() {
			line := sc.Text()
			seqStr, id, ok := strings.Cut(line, " ")
			seq, err := strconv.ParseUint(seqStr, 10, 64)
			if ok && err == nil {
				if len(acked) == 0 {
					close(first)
				}
				acked[seq] = id
			}
		}
	}()
	select {
	case <-first:
	case <-done:
		cmd.Wait()
		t.Fatalf("child exited: %s", stderr.String())
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the child acknowledged nothing in 30 s")
	}
	time.Sleep(d)
	cmd.Process.Kill()
	<-done
	cmd.Wait()
	if strings.TrimSpace(stderr.String()) != "" {
		t.Fatalf("child: %s", stderr.String())
	}
	return acked
}
