package identity

import (
	"errors"
	"fmt"
)

var (
	// ErrUnauthenticated is the one answer to credentials that do not
	// authenticate, whatever the reason.
	ErrUnauthenticated = errors.New("identity: not authenticated")
	// ErrNotFound means no principal or key has the given id.
	ErrNotFound = errors.New("identity: not found")
	// ErrExists means a principal with the given name already exists.
	ErrExists = errors.New("identity: already exists")
)

// InvalidError reports input that the directory does not accept. Field is
// the parameter at fault; Reason says what is wrong with it, without
// repeating a value that might be secret.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string {
	return fmt.Sprintf("identity: invalid %s: %s", e.Field, e.Reason)
}

func invalid(field, reason string) error {
	return &InvalidError{Field: field, Reason: reason}
}
