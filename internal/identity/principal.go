package identity

import (
	"crypto/rand"
	"encoding/base32"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind says whether a principal is a person or a service.
type Kind string

// Kinds of principal.
const (
	KindPerson  Kind = "person"
	KindService Kind = "service"
)

// Role is a role of the default policy set (DESIGN.md, "Roles").
type Role string

// Roles a principal may hold.
const (
	RoleDeveloper       Role = "developer"
	RoleSecurity        Role = "security"
	RoleDBA             Role = "dba"
	RoleAppService      Role = "app-service"
	RolePaymentProvider Role = "payment-provider"
	RoleAdmin           Role = "admin"
)

// Roles lists every role, in a fixed order.
var Roles = []Role{
	RoleDeveloper, RoleSecurity, RoleDBA, RoleAppService, RolePaymentProvider, RoleAdmin,
}

const (
	maxNameLen       = 64
	principalIDBytes = 16
	principalPrefix  = "prn_"
)

// lowerBase32 encodes ids: lowercase, no padding, no characters that need
// escaping in a URL, a certificate name or SQL.
var lowerBase32 = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// Principal is a person or service known to the directory.
type Principal struct {
	ID        string
	Name      string
	Kind      Kind
	Roles     []Role // sorted, without duplicates
	CreatedAt time.Time
	// DisabledAt is zero while the principal is enabled.
	DisabledAt time.Time
	// Keys is the metadata of the principal's API keys, oldest first. It
	// is filled by GetPrincipal and ListPrincipals, not by Authenticate.
	Keys []KeyInfo
}

// Enabled reports whether the principal may authenticate.
func (p *Principal) Enabled() bool { return p.DisabledAt.IsZero() }

// HasRole reports whether the principal holds r.
func (p *Principal) HasRole(r Role) bool {
	_, found := slices.BinarySearch(p.Roles, r)
	return found
}

func newPrincipalID() (string, error) {
	var b [principalIDBytes]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("generate principal id: %w", err)
	}
	return principalPrefix + lowerBase32.EncodeToString(b[:]), nil
}

// validPrincipalID reports whether id has the shape newPrincipalID gives.
func validPrincipalID(id string) bool {
	rest, ok := strings.CutPrefix(id, principalPrefix)
	return ok && len(rest) == lowerBase32.EncodedLen(principalIDBytes) && isLowerBase32(rest)
}

func isLowerBase32(s string) bool {
	for _, c := range []byte(s) {
		if (c < 'a' || c > 'z') && (c < '2' || c > '7') {
			return false
		}
	}
	return true
}

func checkName(name string) error {
	if name == "" || len(name) > maxNameLen {
		return invalid("name", fmt.Sprintf("must be 1 to %d characters", maxNameLen))
	}
	for _, c := range []byte(name) {
		if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '.' && c != '_' && c != '-' {
			return invalid("name", "only a-z, 0-9, '.', '_' and '-' are allowed")
		}
	}
	return nil
}

func checkKind(k Kind) error {
	if k != KindPerson && k != KindService {
		return invalid("kind", `must be "person" or "service"`)
	}
	return nil
}

// normalizeRoles checks every role and returns them sorted and unique.
func normalizeRoles(roles []Role) ([]Role, error) {
	out := make([]Role, 0, len(roles))
	for _, r := range roles {
		if !slices.Contains(Roles, r) {
			return nil, invalid("roles", fmt.Sprintf("unknown role %q", string(r)))
		}
		out = append(out, r)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// encodeRoles gives the stored form of normalized roles.
func encodeRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// decodeRoles parses the stored form, refusing anything encodeRoles would
// not have written.
func decodeRoles(s string) ([]Role, error) {
	if s == "" {
		return nil, nil
	}
	var roles []Role
	for part := range strings.SplitSeq(s, ",") {
		roles = append(roles, Role(part))
	}
	norm, err := normalizeRoles(roles)
	if err != nil || encodeRoles(norm) != s {
		return nil, fmt.Errorf("decode roles: stored list %q is not canonical", s)
	}
	return norm, nil
}
