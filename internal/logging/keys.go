package logging

import "log/slog"

// Attribute keys shared across SecureCart's packages.
const (
	KeyRequestID = "request_id"
	KeySubsystem = "subsystem"
	KeyErr       = "err"
	KeyPrincipal = "principal"
	KeyMethod    = "method"
	KeyRoute     = "route"
	KeyStatus    = "status"
	KeyDuration  = "duration"
)

// Subsystem returns the child of log for one subsystem ("keys", "backup").
func Subsystem(log *slog.Logger, name string) *slog.Logger {
	return log.With(KeySubsystem, name)
}
