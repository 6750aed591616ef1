package main

import "fmt"

// signIn writes the cost of a sign-in at the shipped Argon2id parameters
// beside the lockout policy that bounds online guessing.
func (r *report) signIn() {
	w := r.w
	fmt.Fprintf(w, "## Sign-in\n\n")
	fmt.Fprintf(w, "Argon2id as shipped (identity.DefaultArgon2: 64 MiB, 2 passes, 1 thread), one core (-cpu 1).\n"+
		"A sign-in is the password hash, the TOTP check and the session written; a guess against a stolen\n"+
		"hash is the Argon2id call alone. Reproduce with `make bench-signin`.\n\n")
	fmt.Fprintf(w, "| operation | ms per attempt | attempts/s on one core |\n|---|---|---|\n")
	rows := []struct{ label, name string }{
		{"sign-in on SQLite (hash, TOTP, session)", "BenchmarkSignIn/sqlite"},
		{"sign-in on PostgreSQL", "BenchmarkSignIn/postgres"},
		{"Argon2id verification alone", "BenchmarkPasswordHash"},
	}
	for _, row := range rows {
		ms, ok := r.get(row.name, "ms/attempt")
		if !ok {
			fmt.Fprintf(w, "| %s | not measured | |\n", row.label)
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", row.label, num(ms), num(1000/ms))
	}
	fmt.Fprintf(w, "\nLockout policy beside it: 10 failed sign-ins in a row lock an account for 30 minutes, and\n"+
		"sign-in attempts are throttled to 10 a minute per source address (bursts of 20). Online, one\n"+
		"account therefore takes at most 10 guesses per 30 minutes, 480 a day, however many cores the\n"+
		"attacker has; each also needs the TOTP code. Offline, against a stolen hash, each guess costs\n"+
		"the Argon2id row above on one core.\n\n")
}
