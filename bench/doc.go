// Package bench compares SecureCart's authorization engine with other
// engines on the same policies and requests. It is a Go module of its own,
// so that the engines it compares against, OPA above all, never enter the
// program's dependencies.
//
// The engines:
//
//   - SecureCart's indexed engine (internal/policy), on the default set and
//     on 1,000 generated policies (internal/policy/policygen);
//   - cedar-go's Authorize on the PolicySet, which evaluates every policy of
//     the same 1,000;
//   - OPA, on the same 1,000 policies written in Rego (Rego), as a prepared
//     query evaluated once per request.
//
// Every engine is handed a policy.Request and does its own translation of
// it (Cedar entities, or OPA's input document) inside the measured time,
// as the indexed engine does. TestSameDecisions checks on thousands of
// generated requests that all of them reach the same decision, with the
// same determining policies and the same policies in error, so that the
// figures compare equal work.
//
// Run the benchmarks from this directory:
//
//	go test -run '^$' -bench . -count 5
package bench
