// Package backup is SecureCart's continuous backup: it ships the store's
// change log to object storage as compressed, sealed segments, takes
// snapshots and keystore snapshots, and restores a new database to any
// point inside the retention window.
//
// # What is written
//
// Everything lives in the backups bucket under the deployment's id (see
// DeploymentID), in three kinds of object:
//
//	seg/FIRST-LAST          the changes FIRST..LAST of the change log
//	snap/POS-TIME/part-N    a snapshot's rows, about 4 MiB each before compression
//	snap/POS-TIME/manifest  written last: the snapshot is complete once it exists
//	keystore/TIME           the keystore's state, keys in wrapped form only
//
// Segments, parts and manifests are JSON lines, compressed with zstd, then
// sealed with the deployment's backup data key (key domain "backup"). The
// seal binds the deployment id and the object's name, so a segment that
// was altered, copied from another deployment or moved to another name does
// not open, and a restore stops there with a *SegmentError that names it.
// The rows inside are the store's engine-neutral form (package store:
// Export, Loader), with customer fields still sealed under the customers'
// own keys, so a backup of SQLite restores into PostgreSQL and the reverse.
//
// # Shipping
//
// A Shipper reads the change log from the last shipped position and
// uploads what it finds every Interval (one second by default), so at most
// about one interval of acknowledged writes is lost with the machine. When
// storage fails, it retries with exponential backoff up to MaxBackoff, the
// store keeps serving, and Lag reports how long the oldest unshipped change
// has waited; once storage is back the shipper catches up in segments of
// up to store.MaxChangesRead changes. Shipped positions are recorded in the
// database (table backup_state) and the change log is pruned behind them.
//
// Snapshots run every SnapshotInterval (daily by default) from one
// consistent read transaction. The keystore is snapshotted apart from the
// data: before the first segment a new backup key seals, and whenever the
// keys change, at most every KeystoreInterval. Only the newest keystore
// snapshot is kept, so a destroyed key (a shredded customer) is gone from
// every backup at the next keystore snapshot: a restore from before the
// shredding brings the customer's row back, but its fields do not open.
//
// # Restore and verify
//
// Restore builds a new database, never the live one: it refuses a target
// that holds data. It loads the newest keystore snapshot, the newest data
// snapshot at or before the target, then replays segments change by change
// up to the target time or position. Restoring to a time T gives the state
// after the longest run of changes, in log order, whose commit times are at
// or before T; changes of one transaction share a time, so a transaction is
// restored whole or not at all. Verify restores the live store's current
// position into a scratch database and compares row counts and content
// hashes table by table.
//
// Verify records its outcome in the live database (LastVerify), so the
// schedule and the status outlive a restart.
//
// RestoreRecord brings one customer back into the live store as it was at
// a point in time: it restores the backups to that point into a scratch
// database, reads the customer there with the restored keys and writes it
// over the live row, or inserts it again when the row is gone. It is an
// ordinary store write with its change record. A customer erased since
// then had its data key destroyed, and erasure is final: RestoreRecord
// refuses it (store.ErrErased) even while the newest keystore snapshot
// still holds the key.
//
// # Running
//
// A Runner runs the shipper, the snapshots and retention, and the
// verification every VerifyInterval (weekly by default; at once for a
// deployment never verified), and reports all of it in Status.
//
// Retention keeps the newest snapshot older than the window and everything
// after it, so every point of the window stays restorable.
//
// # Limits
//
//   - The backup covers the store's tables (customers, products, orders)
//     and the keystore. The identity directory and idempotency keys are not
//     in the change log and are not restored; a restored deployment enrols
//     its principals again.
//   - A customer created after the newest keystore snapshot (at most
//     KeystoreInterval ago, a minute by default) restores with its fields
//     sealed under a key the backup does not hold yet, if the machine is
//     lost before the next keystore snapshot.
//   - A keystore snapshot holds every key; on a keystore of millions of
//     keys, taking one every minute under load is a real cost.
//   - A deleted last segment cannot be told from one never shipped unless
//     a later snapshot exists; a deleted segment in the middle always
//     stops the restore.
//   - Segments are never compacted: a week at one segment a second is
//     about 600,000 objects, and a restore lists them all.
//   - The audit trail is not shipped by this package.
//   - RestoreRecord brings back customers only, and restores the whole
//     backup into a scratch database to read one row: its time grows
//     with the store. Orders and products come back with a full restore.
//   - A verification or a record restore opens the scratch database with
//     the root key provider it is given; a server that cannot prompt
//     needs the passphrase (if that provider is configured) in its
//     environment, or they fail and say so in the status.
package backup
