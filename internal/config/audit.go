package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/objstore"
)

// AuditConfig is how long the audit trail stays on the node and in object
// storage.
type AuditConfig struct {
	// CheckpointInterval is the time between two signed checkpoints of
	// the records added since the last (default 1s).
	CheckpointInterval time.Duration
	// ShipInterval is the time between two copies of the new records and
	// checkpoints to object storage (default 1m).
	ShipInterval time.Duration
	// Online is how long records stay in the audit directory, where
	// GET /v1/audit and `audit tail` read them (default 90 days); older
	// segments move to the archive bucket.
	Online time.Duration
	// Retention is how long records are kept at all (default 365 days).
	Retention time.Duration
	// Origin names a new audit log in its checkpoints and its objects
	// (default "securecart.local/audit"). Every node that shares object
	// storage needs its own, such as "node-3.shop.example/audit".
	Origin string
}

// Bounds of the audit settings.
const (
	Day                   = 24 * time.Hour
	MinAuditOnline        = 7 * Day
	MaxAuditRetention     = 10 * 365 * Day
	MaxAuditShipInterval  = time.Hour
	MinAuditShipInterval  = time.Second
	MinAuditCheckpoint    = 100 * time.Millisecond
	MaxAuditCheckpoint    = time.Hour
	DefaultAuditOnline    = 90 * Day
	DefaultAuditRetention = 365 * Day
)

func defaultAudit() AuditConfig {
	return AuditConfig{CheckpointInterval: time.Second, ShipInterval: time.Minute, Online: DefaultAuditOnline, Retention: DefaultAuditRetention}
}

// parsePeriod reads a Go duration ("90m", "2160h") or a number of days
// ("90d").
func parsePeriod(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.ParseUint(n, 10, 16)
		if err != nil {
			return 0, fmt.Errorf("invalid number of days %q", s)
		}
		return time.Duration(days) * Day, nil
	}
	return time.ParseDuration(s)
}

// auditSettings names each setting in the environment and in the file.
func (c *Config) auditSettings() []struct {
	env, file string
	dst       *time.Duration
} {
	return []struct {
		env, file string
		dst       *time.Duration
	}{
		{"SECURECART_AUDIT_CHECKPOINT_INTERVAL", "checkpoint_interval", &c.Audit.CheckpointInterval},
		{"SECURECART_AUDIT_SHIP_INTERVAL", "ship_interval", &c.Audit.ShipInterval},
		{"SECURECART_AUDIT_ONLINE", "online", &c.Audit.Online},
		{"SECURECART_AUDIT_RETENTION", "retention", &c.Audit.Retention},
	}
}

func (c *Config) auditFromEnv(getenv func(string) string) error {
	if v := getenv("SECURECART_AUDIT_ORIGIN"); v != "" {
		c.Audit.Origin = v
	}
	for _, s := range c.auditSettings() {
		if v := getenv(s.env); v != "" {
			d, err := parsePeriod(v)
			if err != nil {
				return fmt.Errorf("%s: %w", s.env, err)
			}
			*s.dst = d
		}
	}
	return nil
}

// fileAudit is the JSON form of the audit section.
type fileAudit struct {
	Origin             *string `json:"origin"`
	CheckpointInterval *string `json:"checkpoint_interval"`
	ShipInterval       *string `json:"ship_interval"`
	Online             *string `json:"online"`
	Retention          *string `json:"retention"`
}

func (c *Config) applyAudit(f *fileAudit) error {
	if f == nil {
		return nil
	}
	if f.Origin != nil {
		c.Audit.Origin = *f.Origin
	}
	values := map[string]*string{"checkpoint_interval": f.CheckpointInterval, "ship_interval": f.ShipInterval, "online": f.Online, "retention": f.Retention}
	for _, s := range c.auditSettings() {
		if v := values[s.file]; v != nil {
			d, err := parsePeriod(*v)
			if err != nil {
				return fmt.Errorf("audit.%s: %w", s.file, err)
			}
			*s.dst = d
		}
	}
	return nil
}

func (c *Config) validateAudit() []error {
	var errs []error
	a := c.Audit
	if a.Origin != "" && !validOrigin(a.Origin) {
		errs = append(errs, fmt.Errorf("audit origin %q: want letters, digits and . _ - = separated by /", a.Origin))
	}
	if a.CheckpointInterval < MinAuditCheckpoint || a.CheckpointInterval > MaxAuditCheckpoint {
		errs = append(errs, fmt.Errorf("audit checkpoint interval: %s is outside 100ms..1h", a.CheckpointInterval))
	}
	if a.ShipInterval < MinAuditShipInterval || a.ShipInterval > MaxAuditShipInterval {
		errs = append(errs, fmt.Errorf("audit ship interval: %s is outside 1s..1h", a.ShipInterval))
	}
	if a.Online < MinAuditOnline {
		errs = append(errs, fmt.Errorf("audit online period: %s is under 7 days", a.Online))
	}
	if a.Retention < a.Online || a.Retention > MaxAuditRetention {
		errs = append(errs, fmt.Errorf("audit retention: %s is shorter than the online period or over 10 years",
			a.Retention))
	}
	return errs
}

// validOrigin accepts what can name both a signed note's key and a folder
// of objects: an object key (letters, digits, '.', '_', '-' and '=' in
// parts separated by '/') of at most 200 bytes.
func validOrigin(o string) bool {
	return len(o) <= 200 && objstore.ValidKey(o)
}
