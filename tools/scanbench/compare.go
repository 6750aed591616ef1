package main

import (
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/securecart/securecart/internal/scan/scantest"
)

// againstGitleaks scans one file with the securecart binary and with
// gitleaks and compares CPU time and recall on AWS access key ids.
func againstGitleaks(dir, bin, gitleaks string, mib int64, reps int) {
	logs := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		log.Fatal(err)
	}
	text, labels := logText("app.log", mib, 7)
	file := filepath.Join(logs, "app.log")
	if err := os.WriteFile(file, text, 0o644); err != nil {
		log.Fatal(err)
	}
	keys := map[string]bool{}
	for _, l := range labels {
		if l.Detector == "aws_access_key" {
			keys[string(text[l.Offset:l.Offset+l.Length])] = true
		}
	}

	var ours, theirs []float64
	var ourRecall, theirRecall float64
	for range reps {
		out := filepath.Join(dir, "securecart.json")
		t, _ := child(out, bin, "scan", "--format", "json", "--fail-on", "none", file)
		ours = append(ours, float64(len(text))/1e6/t.Seconds())
		ourRecall = securecartRecall(out, labels)

		report := filepath.Join(dir, "gitleaks.json")
		t, _ = child(filepath.Join(dir, "gitleaks.out"), gitleaks, "dir", "--no-banner", "--log-level", "error",
			"--report-format", "json", "--report-path", report, "--exit-code", "0", logs)
		theirs = append(theirs, float64(len(text))/1e6/t.Seconds())
		theirRecall = gitleaksRecall(report, keys)
	}
	fmt.Printf("BenchmarkScanGitleaks/securecart 1 %.1f MB/cpu-s %.4f aws-recall %d input-MiB %d aws-keys\n",
		median(ours), ourRecall, mib, len(keys))
	fmt.Printf("BenchmarkScanGitleaks/gitleaks 1 %.3f MB/cpu-s %.4f aws-recall %d input-MiB %d aws-keys\n",
		median(theirs), theirRecall, mib, len(keys))
}

// securecartRecall reads a JSON report and returns the share of AWS key
// id labels that an aws_access_key finding covers.
func securecartRecall(report string, labels []scantest.Label) float64 {
	b, err := os.ReadFile(report)
	if err != nil {
		log.Fatal(err)
	}
	var r struct {
		Findings []struct {
			Detector string
			Offset   int
			Length   int
		}
	}
	if err := json.Unmarshal(b, &r); err != nil {
		log.Fatalf("read securecart report: %v", err)
	}
	var ss []scantest.Span
	for _, f := range r.Findings {
		ss = append(ss, scantest.Span{Detector: f.Detector, Start: f.Offset, End: f.Offset + f.Length})
	}
	rec, _ := scantest.Recall(labels, ss, "aws_access_key")
	return rec
}

// gitleaksRecall reads a gitleaks JSON report and returns the share of
// keys it reported as a secret.
func gitleaksRecall(report string, keys map[string]bool) float64 {
	b, err := os.ReadFile(report)
	if err != nil {
		log.Fatal(err)
	}
	var findings []struct {
		RuleID string
		Secret string
	}
	if err := json.Unmarshal(b, &findings); err != nil {
		log.Fatalf("read gitleaks report: %v", err)
	}
	found := map[string]bool{}
	for _, f := range findings {
		if keys[f.Secret] {
			found[f.Secret] = true
		}
	}
	if len(keys) == 0 {
		return 1
	}
	return float64(len(found)) / float64(len(keys))
}

// peakMemory scans a file of gib GiB with the securecart binary reps
// times and reports the median of its peak resident memory and of its
// throughput.
func peakMemory(dir, bin string, gib int64, reps int) {
	file := filepath.Join(dir, "big.log")
	f, err := os.Create(file)
	if err != nil {
		log.Fatal(err)
	}
	if _, err := scantest.WriteLog(f, "big.log", gib<<30, 11, 10_000); err != nil {
		log.Fatal(err)
	}
	info, err := f.Stat()
	if err != nil || f.Close() != nil {
		log.Fatalf("write %s: %v", file, err)
	}
	defer os.Remove(file)

	var rss, speed, wall []float64
	for range reps {
		start := time.Now()
		t, peak := child(os.DevNull, bin, "scan", "--format", "json", "--fail-on", "none", file)
		wall = append(wall, time.Since(start).Seconds())
		rss = append(rss, peak)
		speed = append(speed, float64(info.Size())/1e6/t.Seconds())
	}
	fmt.Printf("BenchmarkScanPeakRSS 1 %.1f rss-MiB %.1f MB/cpu-s %.1f wall-s %d input-GiB\n",
		median(rss), median(speed), median(wall), gib)
}
