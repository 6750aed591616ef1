package main

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/term"
)

// readSecret reads a secret from the terminal without echoing it.
func readSecret(prompt string) ([]byte, error) {
	tty, err := os.OpenFile("/dev/tty", os.O_RDWR, 0)
	if err != nil {
		return nil, errors.New("no terminal to prompt on")
	}
	defer tty.Close()
	fmt.Fprint(tty, prompt)
	b, err := term.ReadPassword(int(tty.Fd()))
	fmt.Fprintln(tty)
	return b, err
}

// newSecret asks for a secret twice, or takes it from the environment
// variable env when set.
func newSecret(env, what string) ([]byte, error) {
	if v := os.Getenv(env); v != "" {
		return []byte(v), nil
	}
	a, err := readSecret(what + ": ")
	if err != nil {
		return nil, fmt.Errorf("%w; set %s instead", err, env)
	}
	b, err := readSecret("Again: ")
	if err != nil {
		return nil, err
	}
	if string(a) != string(b) {
		return nil, errors.New("the two entries differ")
	}
	if len(a) < 12 {
		return nil, errors.New("use at least 12 characters")
	}
	return a, nil
}
