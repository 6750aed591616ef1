// Package versions keeps the policy set as a versioned document in the
// database and the engine of its active version in memory.
//
// # Versions
//
// Every apply stores the whole set as a new version, numbered 1, 2, ...;
// nothing is ever updated or deleted. The highest version is the active
// one. Version 0 is the default set built into the program, active until
// the first apply and never stored. A rollback to version n stores n's
// text again as a new version that records which one it copied, so the
// history shows when each set was in force and who put it there.
//
// # What an apply checks
//
// Apply and Rollback parse the set, validate every policy against the
// schema (errors carry line and column), check resource policies
// (policy.Load), and run the access analyzer. A set that breaks a
// blocking guardrail, one that leaves no admin who is a person able to
// manage principals and policies with MFA, is refused with a
// RefusedError; a set that does not parse or validate with an
// InvalidError. In both cases nothing is stored and the live set does not
// change. Other findings do not block; Apply returns them.
//
// # Nodes
//
// Live is a policy.Decider that holds the active engine behind an atomic
// pointer: a decision never waits for an apply, and sees either the old
// set or the new one. The node that applies switches at once; the others
// switch when Poll next calls Refresh, which compares the highest stored
// version with the live one and loads it if they differ. Live also keeps
// the access analysis of the active version, computed on first request.
//
// # Limits
//
// Between an apply and the next poll, nodes decide with different
// versions. A stored version that no longer loads (after a schema change
// removed something it names) is not installed by Refresh, which keeps
// the previous set and reports the error; such a version cannot be
// rolled back to either.
package versions
