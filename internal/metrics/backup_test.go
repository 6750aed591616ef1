package metrics

import (
	"testing"
	"time"
)

// TestBackupMetrics reads the backup state at each scrape.
func TestBackupMetrics(t *testing.T) {
	m := New()
	snap := time.Unix(1_800_000_000, 0)
	r := BackupReading{Lag: 1500 * time.Millisecond, Shipped: 42, Failures: 3, LastSnapshot: snap}
	m.ReadBackups(func() BackupReading { return r })

	got := scrape(t, m)
	for series, want := range map[string]float64{
		"backup_shipping_lag_seconds":            1.5,
		"backup_shipped_position":                42,
		"backup_shipping_failures":               3,
		"backup_last_snapshot_timestamp_seconds": 1_800_000_000,
		"backup_verify_last_timestamp_seconds":   0,
		"backup_verify_last_success":             0,
	} {
		if v, ok := got[series]; !ok || v != want {
			t.Errorf("%s = %v (present %v), want %v", series, v, ok, want)
		}
	}

	r = BackupReading{Shipped: 50, LastVerify: snap.Add(time.Hour), VerifyOK: true}
	got = scrape(t, m)
	if got["backup_shipping_lag_seconds"] != 0 || got["backup_verify_last_success"] != 1 ||
		got["backup_verify_last_timestamp_seconds"] != 1_800_003_600 {
		t.Errorf("after recovery: %v", got)
	}
}
