// Command scanbench measures the sensitive-data scanner in CPU-seconds,
// which stay meaningful on a shared machine where wall time does not:
//
//   - every detector over generated log text, in this process, beside the
//     regexp baseline (one expression per detector) on the same text;
//   - the securecart binary and gitleaks, a secrets scanner run as a
//     separate program, on the same file, with their recall on AWS access
//     key ids;
//   - the peak resident memory of `securecart scan` over a 1 GiB file.
//
// It prints benchmark lines that tools/benchreport reads:
//
//	go run ./tools/scanbench >> docs/bench/scan.txt
//
// gitleaks is not a dependency of SecureCart: install it apart
// (go install github.com/zricethezav/gitleaks/v8@v8.30.1) and name it
// with -gitleaks if it is not on PATH; without it those lines are left out.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/securecart/securecart/internal/scan"
	"github.com/securecart/securecart/internal/scan/scantest"
)

func main() {
	var (
		mib         = flag.Int64("mib", 64, "MiB of log text for the in-process throughput")
		baselineMiB = flag.Int64("baseline-mib", 8, "MiB of that text the regexp baseline reads")
		reps        = flag.Int("reps", 3, "repetitions; the median is printed")
		glMiB       = flag.Int64("gitleaks-mib", 16, "MiB of log text for the comparison with gitleaks")
		rssGiB      = flag.Int64("rss-gib", 1, "GiB of log text for the peak memory of a scan (0: skip)")
		gitleaks    = flag.String("gitleaks", "gitleaks", "gitleaks binary")
		work        = flag.String("dir", "", "work folder (default: a new temporary one)")
	)
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("scanbench: ")

	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "scanbench"); err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(dir)
	}

	inProcess(*mib, *baselineMiB, *reps)

	bin := filepath.Join(dir, "securecart")
	if out, err := exec.Command("go", "build", "-o", bin, "./cmd/securecart").CombinedOutput(); err != nil {
		log.Fatalf("build securecart: %v\n%s", err, out)
	}
	if path, err := exec.LookPath(*gitleaks); err == nil {
		againstGitleaks(dir, bin, path, *glMiB, *reps)
	} else {
		log.Printf("gitleaks not found (%v): comparison left out", err)
	}
	if *rssGiB > 0 {
		peakMemory(dir, bin, *rssGiB, *reps)
	}
}

// cpu returns the CPU time this process has used.
func cpu() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		log.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func median(xs []float64) float64 {
	slices.Sort(xs)
	return xs[len(xs)/2]
}

func logText(file string, mib int64, seed uint64) ([]byte, []scantest.Label) {
	var b bytes.Buffer
	b.Grow(int(mib<<20) + 4096)
	labels, err := scantest.WriteLog(&b, file, mib<<20, seed, 10_000)
	if err != nil {
		log.Fatal(err)
	}
	return b.Bytes(), labels
}

func spans(ms []scan.Match) []scantest.Span {
	out := make([]scantest.Span, len(ms))
	for i, m := range ms {
		out[i] = scantest.Span{Detector: m.Detector, Start: m.Start, End: m.End}
	}
	return out
}

// inProcess measures the detectors and the baseline in MB per CPU-second.
func inProcess(mib, baselineMiB int64, reps int) {
	text, labels := logText("bench.log", mib, 42)
	part := text[:min(int64(len(text)), baselineMiB<<20)]
	var inPart []scantest.Label
	for _, l := range labels {
		if l.Offset+l.Length <= len(part) {
			inPart = append(inPart, l)
		}
	}

	var ours, base []float64
	var ms []scan.Match
	var ss []scantest.Span
	for range reps {
		c := cpu()
		ms = scan.FindSet(text, scan.AllSet)
		ours = append(ours, float64(len(text))/1e6/(cpu()-c).Seconds())

		c = cpu()
		ss = scantest.BaselineFind(part)
		base = append(base, float64(len(part))/1e6/(cpu()-c).Seconds())
	}
	r1, _ := scantest.Recall(labels, spans(ms), "")
	r2, _ := scantest.Recall(inPart, ss, "")
	fmt.Printf("BenchmarkScanCPU/securecart 1 %.1f MB/cpu-s %.4f recall %d input-MiB\n", median(ours), r1, mib)
	fmt.Printf("BenchmarkScanCPU/regexp 1 %.2f MB/cpu-s %.4f recall %d input-MiB\n", median(base), r2, baselineMiB)
}

// child runs a command and returns its CPU time and its peak resident
// memory in MiB. The peak is read from the child's own VmHWM while it
// runs: the rusage of a child started by vfork counts the parent's
// resident memory too.
func child(stdout string, name string, args ...string) (time.Duration, float64) {
	cmd := exec.Command(name, args...)
	out, err := os.Create(stdout)
	if err != nil {
		log.Fatal(err)
	}
	defer out.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = out, &stderr
	if err := cmd.Start(); err != nil {
		log.Fatalf("%s: %v", name, err)
	}

	peak := make(chan int64)
	stop := make(chan struct{})
	go func() {
		status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
		var hwm int64
		for {
			if b, err := os.ReadFile(status); err == nil {
				if i := bytes.Index(b, []byte("VmHWM:")); i >= 0 {
					var kb int64
					fmt.Sscan(string(b[i+len("VmHWM:"):]), &kb)
					hwm = max(hwm, kb)
				}
			}
			select {
			case <-stop:
				peak <- hwm
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	err = cmd.Wait()
	close(stop)
	hwm := <-peak
	if err != nil {
		log.Fatalf("%s: %v\n%s", name, err, stderr.Bytes())
	}
	return cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime(), float64(hwm) / 1024
}
