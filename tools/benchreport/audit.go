package main

import "fmt"

// auditLog reports the audit log's durable appends beside raw fsynced
// appends of the same frames, and verification beside SHA-256.
func (r *report) auditLog() {
	w := r.w
	ge := func(x float64) func(float64) bool { return func(v float64) bool { return v >= x } }
	fmt.Fprintf(w, "## Audit log\n\n")
	fmt.Fprintf(w, "Durable appends through Log.Append (redaction, encoding, framing, Merkle hashing, group commit)\n"+
		"beside the same frames appended by the same kind of single writer goroutine with one write and one\n"+
		"fsync per batch, without encoding or hashing; same disk, same run. Reproduce with `make bench-audit`.\n\n")
	fmt.Fprintf(w, "| writers | records/s | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	for _, n := range []string{"1", "16"} {
		v, ok1 := r.get("BenchmarkAuditAppend/writers-"+n, "records/s")
		b, ok2 := r.get("BenchmarkAuditRawAppend/writers-"+n, "records/s")
		if !ok1 || !ok2 || b == 0 {
			fmt.Fprintf(w, "| %s concurrent writers | not measured | | | | |\n", n)
			continue
		}
		fmt.Fprintf(w, "| %s concurrent writers | %s records/s | raw fsynced appends: %s records/s | %.2fx | informational | |\n",
			n, num(v), num(b), v/b)
	}
	r.row("256 concurrent writers", "BenchmarkAuditAppend/writers-256", "records/s",
		"raw fsynced appends", "BenchmarkAuditRawAppend/writers-256", ge(0.8), "at least 0.8x")
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Verify over 100,000 records (files in the page cache) beside SHA-256 of each record from memory:\n\n")
	fmt.Fprintf(w, "| operation | records/s | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	r.row("audit.Verify", "BenchmarkAuditVerify", "records/s", "SHA-256 of the records",
		"BenchmarkAuditSHA256", ge(0.5), "at least 0.5x")
	fmt.Fprintln(w)

	fmt.Fprintf(w, "GET /v1/customers/{id} through the API handler as the developer (key check, one decision, four\n"+
		"fields opened and masked), 64 concurrent clients, with the audit trail beside a sink that keeps\n"+
		"nothing (the shipped program has no way to turn the trail off):\n\n")
	fmt.Fprintf(w, "| handler | requests/s | baseline | ratio | target | |\n|---|---|---|---|---|---|\n")
	t, ok1 := r.get("BenchmarkGetCustomerAudit/trail", "ns/op")
	n, ok2 := r.get("BenchmarkGetCustomerAudit/noop", "ns/op")
	if ok1 && ok2 && t > 0 && n > 0 {
		verdict := "missed"
		if n/t >= 0.9 {
			verdict = "met"
		}
		fmt.Fprintf(w, "| GET customer with the audit trail | %s requests/s | no-op sink: %s requests/s | %.2fx | %s | at least 0.9x |\n\n",
			num(1e9/t), num(1e9/n), n/t, verdict)
	} else {
		fmt.Fprintf(w, "| GET customer with the audit trail | not measured | | | | at least 0.9x |\n\n")
	}
}
