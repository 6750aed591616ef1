package metrics

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// BackupReading is the state of the backups at one scrape.
type BackupReading struct {
	// Lag is how long the oldest unshipped change has waited.
	Lag time.Duration
	// Shipped is the last change position shipped.
	Shipped int64
	// Failures counts the shipping attempts failed in a row.
	Failures int
	// LastSnapshot is when the newest snapshot was taken (zero: none yet).
	LastSnapshot time.Time
	// LastVerify is when the last verification ran (zero: never), and
	// VerifyOK whether it passed.
	LastVerify time.Time
	VerifyOK   bool
}

var (
	backupLagDesc = prometheus.NewDesc("backup_shipping_lag_seconds",
		"How long the oldest committed change not yet in object storage has waited.", nil, nil)
	backupShippedDesc = prometheus.NewDesc("backup_shipped_position",
		"The last change-log position shipped to object storage.", nil, nil)
	backupFailuresDesc = prometheus.NewDesc("backup_shipping_failures",
		"Shipping attempts that failed in a row; zero once shipping succeeds.", nil, nil)
	backupSnapshotDesc = prometheus.NewDesc("backup_last_snapshot_timestamp_seconds",
		"When the newest snapshot was taken, in Unix seconds; zero when none was.", nil, nil)
	backupVerifyTimeDesc = prometheus.NewDesc("backup_verify_last_timestamp_seconds",
		"When the last backup verification ran, in Unix seconds; zero when none did.", nil, nil)
	backupVerifyOKDesc = prometheus.NewDesc("backup_verify_last_success",
		"1 if the last backup verification restored exactly the live store, else 0.", nil, nil)
)

// ReadBackups registers the backup metrics, read from f at each scrape.
// Call it once per Metrics.
func (m *Metrics) ReadBackups(f func() BackupReading) {
	m.reg.MustRegister(backupCollector(f))
}

type backupCollector func() BackupReading

func (c backupCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{backupLagDesc, backupShippedDesc, backupFailuresDesc,
		backupSnapshotDesc, backupVerifyTimeDesc, backupVerifyOKDesc} {
		ch <- d
	}
}

func (c backupCollector) Collect(ch chan<- prometheus.Metric) {
	r := c()
	unix := func(t time.Time) float64 {
		if t.IsZero() {
			return 0
		}
		return float64(t.UnixMilli()) / 1e3
	}
	ok := 0.0
	if r.VerifyOK {
		ok = 1
	}
	for _, v := range []struct {
		d *prometheus.Desc
		v float64
	}{
		{backupLagDesc, r.Lag.Seconds()}, {backupShippedDesc, float64(r.Shipped)},
		{backupFailuresDesc, float64(r.Failures)}, {backupSnapshotDesc, unix(r.LastSnapshot)},
		{backupVerifyTimeDesc, unix(r.LastVerify)}, {backupVerifyOKDesc, ok},
	} {
		ch <- prometheus.MustNewConstMetric(v.d, prometheus.GaugeValue, v.v)
	}
}
