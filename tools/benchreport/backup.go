package main

import "fmt"

// backup writes the backup figures: the shipping lag under a steady write
// rate, restore rows/s beside Litestream and snapshot MB/s beside a plain
// file copy, each pair from the same run (internal/backup benchmarks).
func (r *report) backup() {
	w := r.w
	fmt.Fprintf(w, "## Backups\n\n")
	fmt.Fprintf(w, "Reproduce with `make bench-backup` (Litestream v0.5.18 installed as a separate binary;\n"+
		"tools/litestreambench/restore.sh replicates the same database to a file replica and times its restore).\n\n")

	fmt.Fprintf(w, "| shipping lag, commit to segment durable | writes/s | p50 | p99 | max | target | |\n"+
		"|---|---|---|---|---|---|---|\n")
	if m, ok := r.res["BenchmarkShipLag"]; ok {
		verdict := "missed"
		if m["p99-lag-ms"] <= 1500 {
			verdict = "met"
		}
		fmt.Fprintf(w, "| SQLite, local object storage, 1 s interval | %s | %s ms | %s ms | %s ms | p99 at most 1.5 s | %s |\n\n",
			num(m["writes/s"]), num(m["p50-lag-ms"]), num(m["p99-lag-ms"]), num(m["max-lag-ms"]), verdict)
	} else {
		fmt.Fprintf(w, "| not measured | | | | | | |\n\n")
	}

	fmt.Fprintf(w, "| operation | SecureCart | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	rows, _ := r.get("BenchmarkRestore/securecart", "rows")
	r.row(fmt.Sprintf("restore of %s customers into SQLite", num(rows)), "BenchmarkRestore/securecart", "rows/s",
		"Litestream restore from a file replica", "BenchmarkRestore/litestream", func(v float64) bool { return v >= 1.5 },
		"at least 1.5x")
	mb, _ := r.get("BenchmarkSnapshot/securecart", "MB")
	r.row(fmt.Sprintf("snapshot of a %s MB SQLite database", num(mb)), "BenchmarkSnapshot/securecart", "MB/s",
		"file copy with fsync", "BenchmarkSnapshot/filecopy", nil, "informational")
	fmt.Fprintln(w)
}
