package store_test

import (
	"bufio"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
	"github.com/securecart/securecart/internal/store"
)

const crashDirVar = "SECURECART_CRASH_DIR"

// TestCrashHelperProcess is the child of TestKill9KeepsAcknowledgedWrites:
// it writes customers from 8 goroutines and prints each one once its write
// is acknowledged, until it is killed.
func TestCrashHelperProcess(t *testing.T) {
	dir := os.Getenv(crashDirVar)
	if dir == "" {
		t.Skip("helper process for TestKill9KeepsAcknowledgedWrites; runs only as its child")
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "securecart.db"), sqlite.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	ks, err := keys.Open(ctx, db, &keys.FileProvider{Path: filepath.Join(dir, "root.key")}, keys.Config{PoolSize: 32})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	s, err := store.Open(ctx, db, ks)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	out := bufio.NewWriter(os.Stdout)
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				email := fmt.Sprintf("crash.%d.%d.%d@example.com", os.Getpid(), w, i)
				c, err := s.CreateCustomer(ctx, store.NewCustomer{Name: "Crash Test", Email: email})
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(3)
				}
				mu.Lock()
				fmt.Fprintf(out, "ack %s %s\n", c.ID, email)
				out.Flush()
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

// TestKill9KeepsAcknowledgedWrites kills a writing child process with
// SIGKILL at random points, 50 times: every write it acknowledged is there
// afterwards, and the database passes its integrity check.
func TestKill9KeepsAcknowledgedWrites(t *testing.T) {
	cycles := 50
	if testing.Short() {
		cycles = 10
	}
	dir := t.TempDir()
	acked := map[string]string{}
	for cycle := range cycles {
		fresh := map[string]string{}
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), crashDirVar+"="+dir)
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		lines := make(chan string, 1024)
		go func() {
			sc := bufio.NewScanner(stdout)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		// Wait for the first acknowledgement, then kill at a random point.
		first, ok := <-lines
		if !ok {
			cmd.Wait()
			t.Fatalf("cycle %d: child wrote nothing: %s", cycle, stderr.String())
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		cmd.Process.Signal(syscall.SIGKILL)
		n := 0
		for _, l := range append([]string{first}, drain(lines)...) {
			f := strings.Fields(l)
			if len(f) == 3 && f[0] == "ack" {
				acked[f[1]] = f[2]
				fresh[f[1]] = f[2]
				n++
			}
		}
		cmd.Wait()
		verifyAcked(t, dir, fresh, int64(len(acked)))
		t.Logf("cycle %d: %d acknowledged, %d in all", cycle, n, len(acked))
	}
	verifyAcked(t, dir, acked, int64(len(acked)))
}

func drain(lines chan string) []string {
	var out []string
	for l := range lines {
		out = append(out, l)
	}
	return out
}

func verifyAcked(t *testing.T, dir string, acked map[string]string, total int64) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(dir, "securecart.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	ks, err := keys.Open(ctx, db, &keys.FileProvider{Path: filepath.Join(dir, "root.key")}, keys.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	s, err := store.Open(ctx, db, ks)
	if err != nil {
		t.Fatal(err)
	}
	for id, email := range acked {
		c, err := s.GetCustomer(ctx, id)
		if err != nil {
			t.Fatalf("acknowledged customer %s lost: %v", id, err)
		}
		if c.Email != email {
			t.Fatalf("customer %s has email %q, want %q", id, c.Email, email)
		}
	}
	head, _, err := s.ChangeHead(ctx)
	if err != nil || head < total {
		t.Fatalf("change log head %d below %d acknowledged writes: %v", head, total, err)
	}
}
