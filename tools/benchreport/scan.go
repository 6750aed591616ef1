package main

import "fmt"

// scan writes the sensitive-data scanner's figures: tools/scanbench's
// BenchmarkScan* lines, in MB per CPU-second, and the wall-clock Go
// benchmark of internal/scan beside them.
func (r *report) scan() {
	w := r.w
	fmt.Fprintf(w, "## Sensitive-data scanner\n\n")
	fmt.Fprintf(w, "Generated JSON log lines with a sensitive value about every 10 KB (internal/scan/scantest), every\n"+
		"detector on. Throughput is in MB per CPU-second of the measured process (getrusage), which the other\n"+
		"work on a shared machine does not inflate as it does wall time; recall is the share of the planted\n"+
		"values found. gitleaks runs as a separate program on the same file (it is not a dependency of\n"+
		"SecureCart). Reproduce with `make bench-scan`, with gitleaks v8.30.1 on PATH.\n\n")
	fmt.Fprintf(w, "| scan | SecureCart | baseline | ratio | recall (baseline) | target | |\n|---|---|---|---|---|---|---|\n")

	row := func(label, name, baseLabel, base, recallUnit string, ratioMin float64, target string, extra func(float64) bool) {
		v, ok1 := r.get(name, "MB/cpu-s")
		b, ok2 := r.get(base, "MB/cpu-s")
		if !ok1 || !ok2 || b == 0 {
			fmt.Fprintf(w, "| %s | not measured | | | | %s | |\n", label, target)
			return
		}
		rv, _ := r.get(name, recallUnit)
		rb, _ := r.get(base, recallUnit)
		size, _ := r.get(name, "input-MiB")
		baseSize, _ := r.get(base, "input-MiB")
		verdict := "missed"
		if v/b >= ratioMin && rv >= rb && extra(v) {
			verdict = "met"
		}
		fmt.Fprintf(w, "| %s, %.0f MiB | %s MB/cpu-s | %s, %.0f MiB: %s MB/cpu-s | %.0fx | %.4f (%.4f) | %s | %s |\n",
			label, size, num(v), baseLabel, baseSize, num(b), v/b, rv, rb, target, verdict)
	}
	row("every detector, in process", "BenchmarkScanCPU/securecart", "Go regexp, one per detector",
		"BenchmarkScanCPU/regexp", "recall", 1, "at least 200 MB/cpu-s, recall at least the baseline's",
		func(v float64) bool { return v >= 200 })
	row("`securecart scan` of a file, AWS key ids", "BenchmarkScanGitleaks/securecart", "`gitleaks dir`",
		"BenchmarkScanGitleaks/gitleaks", "aws-recall", 100, "at least 100x, the same recall",
		func(float64) bool { return true })

	if m, ok := r.res["BenchmarkScanPeakRSS"]; ok {
		verdict := "missed"
		if m["rss-MiB"] < 64 {
			verdict = "met"
		}
		fmt.Fprintf(w, "| peak RSS of `securecart scan`, %.0f GiB | %s MiB (%s MB/cpu-s) | | | | under 64 MiB | %s |\n",
			m["input-GiB"], num(m["rss-MiB"]), num(m["MB/cpu-s"]), verdict)
	} else {
		fmt.Fprintf(w, "| peak RSS of `securecart scan`, 1 GiB | not measured | | | | under 64 MiB | |\n")
	}
	fmt.Fprintln(w)

	v, ok1 := r.get("BenchmarkScanThroughput/securecart", "MB/s")
	b, ok2 := r.get("BenchmarkScanThroughput/regexp", "MB/s")
	if ok1 && ok2 {
		fmt.Fprintf(w, "The same comparison as a Go benchmark, in wall-clock MB/s on the shared machine: %s MB/s beside %s MB/s (%.0fx).\n\n",
			num(v), num(b), v/b)
	}
}
