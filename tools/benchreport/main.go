// Command benchreport turns `go test -bench` output into docs/benchmarks.md:
// each figure beside the baseline it is judged against, measured in the same
// run, with the ratio and the target. It also reads the lines
// tools/httpbench prints in the same format.
//
//	go test -run '^$' -bench . ./internal/... | go run ./tools/benchreport > docs/benchmarks.md
package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// result is one benchmark's metrics by unit ("ns/op", "ops/s", ...).
type result map[string]float64

// median reduces repeated runs of a benchmark (go test -count) to the
// median of each metric.
func median(runs []result) result {
	out := result{}
	for unit := range runs[0] {
		var vs []float64
		for _, r := range runs {
			if v, ok := r[unit]; ok {
				vs = append(vs, v)
			}
		}
		sort.Float64s(vs)
		out[unit] = vs[len(vs)/2]
	}
	return out
}

var lineRE = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+\d+\s+(.*)$`)

func parse(r io.Reader) (map[string]result, []string, string) {
	runs := map[string][]result{}
	var order []string
	cpu := ""
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "cpu: ") {
			cpu = strings.TrimPrefix(line, "cpu: ")
		}
		m := lineRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[2])
		r := result{}
		for i := 0; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				r[f[i+1]] = v
			}
		}
		if _, seen := runs[m[1]]; !seen {
			order = append(order, m[1])
		}
		runs[m[1]] = append(runs[m[1]], r)
	}
	res := map[string]result{}
	for name, rs := range runs {
		res[name] = median(rs)
	}
	return res, order, cpu
}

type report struct {
	w   io.Writer
	res map[string]result
}

func (r *report) get(name, unit string) (float64, bool) {
	v, ok := r.res[name][unit]
	return v, ok
}

func (r *report) row(label, name, unit, baseLabel, base string, want func(float64) bool, target string) {
	v, ok1 := r.get(name, unit)
	b, ok2 := r.get(base, unit)
	if !ok1 || !ok2 || b == 0 {
		fmt.Fprintf(r.w, "| %s | not measured | | | | %s |\n", label, target)
		return
	}
	ratio := v / b
	verdict := "missed"
	switch {
	case want == nil:
		verdict = "-" // reported beside its baseline, with no target
	case want(ratio):
		verdict = "met"
	}
	fmt.Fprintf(r.w, "| %s | %s %s | %s: %s %s | %.2fx | %s | %s |\n",
		label, num(v), unit, baseLabel, num(b), unit, ratio, verdict, target)
}

func num(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 1, 64)
	}
	return strconv.FormatFloat(v, 'f', 3, 64)
}

// run is one raw output file: the make target that wrote it and the
// "# measured" line at its head.
type run struct{ target, measured string }

// readRuns concatenates the named files (standard input if none) and
// returns their runs.
func readRuns(paths []string) (io.Reader, []run, error) {
	if len(paths) == 0 {
		return os.Stdin, nil, nil
	}
	var all []byte
	var runs []run
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, nil, err
		}
		rn := run{target: "bench-" + strings.TrimSuffix(filepath.Base(p), ".txt"), measured: "unknown"}
		if first, _, _ := strings.Cut(string(b), "\n"); strings.HasPrefix(first, "# measured ") {
			rn.measured = strings.TrimPrefix(first, "# measured ")
		}
		runs = append(runs, rn)
		all = append(append(all, b...), '\n')
	}
	return bytes.NewReader(all), runs, nil
}

func main() {
	in, runs, err := readRuns(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchreport:", err)
		os.Exit(1)
	}
	res, order, cpu := parse(in)
	r := &report{w: os.Stdout, res: res}
	w := r.w
	fmt.Fprintf(w, "# Benchmarks\n\n")
	fmt.Fprintf(w, "Measured on %s (%d cores), %s. Every figure and its baseline come from the same run;\n"+
		"where a benchmark ran several times (go test -count), the table shows the median.\n",
		cpu, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(w, "Reproduce with `make bench`, or one section with the make target named below (PostgreSQL at\n"+
		"127.0.0.1:5432; see the Makefile for the sizes). The raw output of each target is in docs/bench/.\n\n")
	if len(runs) > 0 {
		fmt.Fprintf(w, "| target | measured (UTC), load average over 1, 5 and 15 minutes |\n|---|---|\n")
		for _, rn := range runs {
			fmt.Fprintf(w, "| `make %s` | %s |\n", rn.target, rn.measured)
		}
		fmt.Fprintln(w)
	}

	fmt.Fprintf(w, "## Sealing a 64-byte field\n\n")
	fmt.Fprintf(w, "| operation | SecureCart | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	le := func(x float64) func(float64) bool { return func(v float64) bool { return v <= x } }
	ge := func(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
	r.row("seal through the envelope, cached data key", "BenchmarkEnvelopeSeal64", "ns/op",
		"raw AES-256-GCM + random nonce", "BenchmarkRawGCMSeal64", le(1.5), "at most 1.5x")
	r.row("open through the envelope, cached data key", "BenchmarkEnvelopeOpen64", "ns/op",
		"raw AES-256-GCM open", "BenchmarkRawGCMOpen64", le(1.5), "at most 1.5x")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "The whole keystore path adds the owner's key lookup, the freshness check and the durable seal count:\n\n")
	fmt.Fprintf(w, "| operation | SecureCart | baseline | ratio | |\n|---|---|---|---|---|\n")
	for _, p := range [][3]string{{"SealFor (owner lookup, seal count, envelope)", "BenchmarkFieldSeal64", "BenchmarkRawGCMSeal64"},
		{"Open (key lookup, envelope)", "BenchmarkFieldOpen64", "BenchmarkRawGCMOpen64"}} {
		v, ok1 := r.get(p[1], "ns/op")
		b, ok2 := r.get(p[2], "ns/op")
		if ok1 && ok2 {
			fmt.Fprintf(w, "| %s | %s ns/op | %s ns/op | %.2fx | informational |\n", p[0], num(v), num(b), v/b)
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "## Store operations, sealed beside a no-op sealer\n\n")
	fmt.Fprintf(w, "The no-op sealer frames values as envelopes without encrypting them.\n\n")
	fmt.Fprintf(w, "| operation | sealed | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	for _, eng := range []string{"sqlite", "postgres"} {
		for _, op := range []string{"CreateCustomer", "GetCustomer"} {
			name := "Benchmark" + op + "/" + eng
			r.row(op+" on "+eng, name+"/sealed", "ops/s", "no-op sealer", name+"/noop", ge(0.85), "at least 0.85x")
		}
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "## Durable creates on SQLite (group commit)\n\n")
	fmt.Fprintf(w, "| writers | creates/s | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	r.row("16 concurrent writers", "BenchmarkDurableCreates/sqlite/writers-16", "creates/s",
		"1 writer", "BenchmarkDurableCreates/sqlite/writers-1", ge(5), "at least 5x")
	if v, ok := r.get("BenchmarkDurableCreates/sqlite/writers-16", "writes/fsync"); ok {
		fmt.Fprintf(w, "\nThe 16 writers shared each commit's fsync %.1f at a time.\n", v)
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "## Lookup by email on SQLite\n\n")
	if m, ok := res["BenchmarkLookupByEmail"]; ok {
		verdict := "missed"
		if m["p50-ms"] < 1 {
			verdict = "met"
		}
		fmt.Fprintf(w, "| customers | p50 | p99 | target | |\n|---|---|---|---|---|\n")
		fmt.Fprintf(w, "| %s | %.3f ms | %.3f ms | p50 under 1 ms | %s |\n\n", num(m["customers"]), m["p50-ms"], m["p99-ms"], verdict)
	} else {
		fmt.Fprintf(w, "not measured\n\n")
	}

	fmt.Fprintf(w, "## Rewrap of data keys\n\n")
	fmt.Fprintf(w, "| engine | keys | keys/s | target | |\n|---|---|---|---|---|\n")
	for _, eng := range []string{"sqlite", "postgres"} {
		m, ok := res["BenchmarkRewrap/"+eng]
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | | |\n", eng)
			continue
		}
		target, verdict := "at least 100,000 keys/s", "missed"
		if m["keys/s"] >= 100000 {
			verdict = "met"
		}
		if eng == "postgres" {
			target, verdict = "reported beside SQLite", "-"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", eng, num(m["keys"]), num(m["keys/s"]), target, verdict)
	}
	fmt.Fprintln(w)

	r.backup()
	r.authz()
	r.api()
	r.vault()
	r.scan()
	r.signIn()
	r.auditLog()
	r.analyzer()

	fmt.Fprintf(w, "## All figures\n\n| benchmark | metrics |\n|---|---|\n")
	for _, name := range order {
		units := make([]string, 0, len(res[name]))
		for u := range res[name] {
			units = append(units, u)
		}
		sort.Strings(units)
		var parts []string
		for _, u := range units {
			parts = append(parts, num(res[name][u])+" "+u)
		}
		fmt.Fprintf(w, "| %s | %s |\n", strings.TrimPrefix(name, "Benchmark"), strings.Join(parts, ", "))
	}
}
