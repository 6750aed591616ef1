package identity

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password rules.
const (
	MinPasswordLen = 12  // characters
	MaxPasswordLen = 256 // bytes: longer input is refused before hashing
)

// Argon2Params are the cost of hashing a password with Argon2id. They are
// stored with every hash, so a hash made with older parameters still
// verifies after the defaults change.
type Argon2Params struct {
	Time      uint32 // passes over memory
	MemoryKiB uint32
	Threads   uint8
}

// DefaultArgon2 is the cost new passwords are hashed with: 64 MiB, two
// passes, one thread. docs/benchmarks.md gives what one sign-in then costs.
var DefaultArgon2 = Argon2Params{Time: 2, MemoryKiB: 64 * 1024, Threads: 1}

// Limits on stored parameters: a stored hash that asks for more is refused
// rather than run.
const (
	maxArgonTime    = 16
	maxArgonMemory  = 1 << 21 // KiB, 2 GiB
	maxArgonThreads = 16
	saltLen         = 16
	passwordHashLen = 32
)

var b64 = base64.RawStdEncoding.Strict()

// hashPassword returns the PHC string of password under p:
//
//	$argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>
func hashPassword(password string, p Argon2Params) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("generate salt: %w", err)
	}
	sum := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, passwordHashLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time,
		p.Threads, b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// verifyPassword reports whether password matches the stored PHC string.
// A stored string that hashPassword would not have written never matches.
func verifyPassword(password, stored string) bool {
	p, salt, want, ok := parsePasswordHash(stored)
	if !ok {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// burnPassword spends the time of one verification, for attempts that fail
// before one could run, so that their answer takes as long.
func burnPassword(password string, p Argon2Params) {
	argon2.IDKey([]byte(password), make([]byte, saltLen), p.Time, p.MemoryKiB, p.Threads, passwordHashLen)
}

func parsePasswordHash(s string) (p Argon2Params, salt, sum []byte, ok bool) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" ||
		parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, false
	}
	var m, t, th uint64
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &th); err != nil {
		return p, nil, nil, false
	}
	p = Argon2Params{Time: uint32(t), MemoryKiB: uint32(m), Threads: uint8(th)}
	if fmt.Sprintf("m=%d,t=%d,p=%d", m, t, th) != parts[3] || t < 1 || t > maxArgonTime ||
		th < 1 || th > maxArgonThreads || m < 8*th || m > maxArgonMemory {
		return p, nil, nil, false
	}
	salt, err1 := b64.DecodeString(parts[4])
	sum, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) != saltLen || len(sum) != passwordHashLen {
		return p, nil, nil, false
	}
	return p, salt, sum, true
}

// commonPasswords is the bundled list of passwords that are refused; see
// commonpw_gen.go for how it was compiled.
//
//go:generate go run commonpw_gen.go
//go:embed common_passwords.txt
var commonPasswordsFile []byte

var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	m := make(map[string]struct{}, 4096)
	sc := bufio.NewScanner(bytes.NewReader(commonPasswordsFile))
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && line[0] != '#' {
			m[line] = struct{}{}
		}
	}
	return m
})

// CheckPassword says why password may not be used by the principal named
// name, or returns nil. It never repeats the password.
func CheckPassword(name, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case !utf8.ValidString(password):
		return invalid("password", "must be UTF-8 text")
	case n < MinPasswordLen:
		return invalid("password", fmt.Sprintf("must be at least %d characters", MinPasswordLen))
	case len(password) > MaxPasswordLen:
		return invalid("password", fmt.Sprintf("must be at most %d bytes", MaxPasswordLen))
	}
	lower := strings.ToLower(password)
	if _, common := commonPasswords()[lower]; common {
		return invalid("password", "is in the list of common passwords")
	}
	if name != "" && strings.Contains(lower, strings.ToLower(name)) {
		return invalid("password", "must not contain the principal's name")
	}
	if strings.Count(lower, lower[:1]) == len(lower) {
		return invalid("password", "must not be one character repeated")
	}
	return nil
}
