package main

import "fmt"

// signIn writes the cost of a sign-in at the shipped Argon2id parameters
// beside the lockout policy that bounds online guessing.
func (r *report) signIn() {
	w := r.w
	fmt.Fprintf(w, "## Sign-in\n\n")
	fmt.Fprintf(w, "Argon2id as shipped (identity.DefaultArgon2: 64 MiB, 2 passes, 1 thread), -cpu 1. A sign-in is\n"+
		"the password hash, the TOTP check and the session written; a guess against a stolen hash is the\n"+
		"Argon2id call alone. CPU ms is the process's CPU time per attempt (PostgreSQL's own CPU not\n"+
		"included), so attempts/s is what one core sustains; wall ms also counts waiting for a core on\n"+
		"a busy machine. Reproduce with `make bench-signin`.\n\n")
	fmt.Fprintf(w, "| operation | CPU ms per attempt | attempts/s on one core | wall ms per attempt |\n"+
		"|---|---|---|---|\n")
	rows := []struct{ label, name string }{
		{"sign-in on SQLite (hash, TOTP, session)", "BenchmarkSignIn/sqlite"},
		{"sign-in on PostgreSQL", "BenchmarkSignIn/postgres"},
		{"Argon2id verification alone", "BenchmarkPasswordHash"},
	}
	for _, row := range rows {
		cpu, ok := r.get(row.name, "cpu-ms/attempt")
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | | |\n", row.label)
			continue
		}
		wall, _ := r.get(row.name, "ms/attempt")
		rate, _ := r.get(row.name, "attempts/s")
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", row.label, num(cpu), num(rate), num(wall))
	}
	fmt.Fprintf(w, "\nLockout policy beside it: 10 failed sign-ins in a row lock an account for 30 minutes, and\n"+
		"sign-in attempts are throttled to 10 a minute per source address (bursts of 20). Online, one\n"+
		"account therefore takes at most 10 guesses per 30 minutes, 480 a day, however many cores the\n"+
		"attacker has; each also needs the TOTP code. Offline, against a stolen hash, each guess costs\n"+
		"the Argon2id row above on one core.\n\n")
}
