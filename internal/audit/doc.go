// Package audit is SecureCart's audit trail: an append-only log of who did
// what to which resource, from where, whether it was allowed and how it
// ended, kept so that an edit, a deletion or a reordering afterwards is
// detected and can be proved to anyone who holds the public key.
//
// # Use
//
//	log, err := audit.Open(filepath.Join(dataDir, audit.DirName), audit.Options{
//		Origin: origin,
//		Signer: signer, // keys.Keystore.AuditSigner(origin)
//	})
//	seq, err := log.Append(ctx, &audit.Record{Phase: audit.PhaseRequest, ...})
//	// ... run the action only if err == nil ...
//	_, err = log.Append(ctx, &audit.Record{Phase: audit.PhaseOutcome, RequestSeq: seq, ...})
//	page, err := log.Reader().Query(ctx, audit.Filter{PrincipalID: id}, cursor, 100)
//	err = log.Close()
//
// Append returns once the record is on disk (fsync). Appends that arrive
// while the disk syncs wait for the next sync and share it: one writer
// goroutine takes whatever is waiting, up to Options.MaxBatch records, and
// writes it with one write and one fsync (group commit).
//
// # Records
//
// A Record holds names, identifiers and numbers only: the principal (id,
// kind, roles), the source (address, TLS version, client certificate
// subject, user agent), the action, the resource (type, id), the decision
// (effect, policy ids), the outcome (HTTP status, error code), the request
// id, the purpose the caller stated (a detokenization must state one, such
// as "capture" or "refund") and the names of the classified fields
// returned in clear. No field
// carries a value read or written. Append first applies Record.Redact,
// which masks whatever package scan detects (card numbers, email
// addresses, phone numbers, secrets) in every string; Encode then refuses
// a string in which scan still finds something.
//
// The encoding, version 2, is canonical (one record has one encoding):
//
//	version      1 byte, 2
//	phase        1 byte, 1 request, 2 outcome
//	time         8 bytes, nanoseconds since 1970 UTC, at most 2^62
//	request seq  8 bytes (outcome records; 0 in request records)
//	tls version  2 bytes (0x0303 is TLS 1.2)
//	status       2 bytes (0 in request records, else 100 to 599)
//	effect       1 byte, 0 none, 1 allow, 2 deny
//	11 strings   request id, principal id, principal kind, source address,
//	             client certificate, user agent, action, resource type,
//	             resource id, error code, purpose
//	3 lists      roles, policies, fields: a count, then strings, sorted
//	             and without duplicates
//
// Integers are big-endian. A string is its length as a minimal unsigned
// LEB128 varint, then UTF-8 without control characters: at most MaxName
// bytes and no spaces, or for the certificate subject and user agent,
// MaxText bytes. A list has at most MaxList entries; a record at most
// MaxRecordSize bytes. Decode accepts exactly what Encode produces.
//
// Version 1, written before records had a purpose, is the same without
// the purpose string. Decode reads it, and a record read from it encodes
// again as version 1, so logs written before stay verifiable.
//
// # Actions outside the API
//
// Admin commands run on the host and the server's background workers
// record themselves with Do, the same way the API records a request:
//
//	err := audit.Do(ctx, log, audit.Action{Name: audit.ActionRotateKey,
//		Resource: audit.Resource{Type: "KeyDomain", ID: "orders"},
//		Principal: audit.System, Source: source}, rotate)
//
// Do appends the request record and runs the action only once it is
// durable; if it cannot be written the action does not run. The outcome
// record follows with status 200 (done), 499 (canceled) or 500 (failed);
// the error's text stays out of the record. Operator is the principal of
// a command run on the host with the root key, System that of a worker of
// the server. The Action* constants name these actions.
//
// # Files
//
// The log lives in one directory (DATA_DIR/audit):
//
//	lock                     held with flock by the one process appending
//	00000000000000000000.seg segments, named by their first record's number
//	checkpoints              the signed checkpoints, one after another
//
// A segment starts with a header: "SCAUDIT1", the first record's number (8
// bytes), a count n (1 byte), the n hashes (32 bytes each) of the compact
// range of every record before it (so a segment can be checked without
// the ones before it), and a CRC-32C (Castagnoli) of the header. Then come
// frames:
//
//	length (4 bytes) | record number (8 bytes) | record | CRC-32C (4 bytes)
//
// where the CRC covers length, number and record. A segment is closed and
// a new one started once it passes Options.SegmentSize.
//
// On Open, the tail of the last segment may be an incomplete batch from a
// crash: frames that never got their fsync and so were never acknowledged.
// Open cuts the segment back to its last whole frame, provided what it
// cuts is no longer than one batch (4 MiB); anything else out of place
// (a bad frame earlier, a segment that does not continue the one before,
// records missing under the last checkpoint) is ErrCorrupt, and Open
// refuses the directory rather than append to it. When a write or an fsync
// fails, Append returns ErrUnavailable for that batch; the next append
// reopens the segment and cuts it back to the last acknowledged frame
// before writing (after a failed fsync the kernel may have dropped the
// pages, so they are written again rather than synced again). The log
// thus recovers by itself once the disk takes writes again.
//
// # Tree and checkpoints
//
// The records, as encoded (without the frame), are the leaves of an RFC
// 6962 Merkle tree (SHA-256, leaf hash SHA-256(0x00 || record), node hash
// SHA-256(0x01 || left || right)); record number i is leaf i. The log
// keeps only the compact range of the tree (about log2 n hashes), so an
// append costs O(log n) hashing, done while the disk syncs.
//
// Every Options.CheckpointEvery (one second) if records were added, at
// Close, and at Open when records are not yet covered, the log writes a
// checkpoint: a signed note (C2SP signed-note, Ed25519) whose text is
//
//	<origin>
//	<tree size, decimal>
//	<root hash, base64>
//	time <RFC 3339 UTC, nanoseconds>
//	checkpoint <number>
//
// The first three lines are the C2SP tlog-checkpoint body; the last two
// are extension lines. Numbers count from 1 without gaps, and each
// checkpoint covers more records than the one before. The key name of the
// signature is the origin. Checkpoints are appended to the checkpoints
// file and fsynced, then given to Options.Publish if set; the Archiver
// copies them to object storage (see "Archive and retention"). The
// signing key is derived from the keystore's audit-signing key
// (keys.Keystore.AuditSigner); `securecart audit pubkey` prints the
// verifier key.
//
// # Verification
//
// Verify recomputes the tree from the segments and checks, in this order:
// every checkpoint's signature (with the verifier keys given), origin,
// number (a gap is MissingCheckpoint), size and time (each after the one
// before); then every segment header and frame (BadRecord), every record
// number (Sequence: a record deleted, inserted, moved, or a segment
// missing), and the root at every checkpoint's size (RootMismatch). At the
// end, a checkpoint larger than the log is Truncated, and records after
// the last checkpoint are Unsealed. Problem.Seq names the first record at
// fault and Problem.Checkpoint the checkpoint.
//
// How close the position is depends on what was changed. An edited byte,
// a deleted, inserted or moved frame, and a cut are found at their record
// because frames carry their number and checksum. Someone who rewrites a
// record and recomputes its checksum is caught by the next checkpoint's
// signed root, and the report names the records that checkpoint added
// (about one second of records). A deleted checkpoint in the middle leaves
// a gap in the numbers; a deleted last checkpoint leaves records after
// the new last one (Unsealed). Unsealed is also what a crash leaves,
// until the log is opened again and checkpoints them; the operator tells
// the two apart by whether the process stopped. Removing the newest
// records together with the checkpoints that cover them leaves a log that
// is consistent on its own: only a checkpoint kept elsewhere (object
// storage, or a copy a reviewer kept) reveals it, with `audit verify
// --from FILE`, which requires the directory to hold that checkpoint and
// the log to extend it.
//
// # Proofs
//
// ProveInclusion and ProveConsistency write a proof file, JSON:
//
//	{"kind": "inclusion", "index": <record number>, "record": <base64 of the
//	 encoded record>, "hashes": [<base64>...], "checkpoint": "<signed note>"}
//	{"kind": "consistency", "hashes": [...], "checkpoint": "<signed note of
//	 the larger tree>", "old_checkpoint": "<signed note of the smaller>"}
//
// To check one without SecureCart: verify the note signatures with the
// verifier key (Ed25519 over the note text, as C2SP signed-note defines),
// read tree size and root from the checkpoint text, and check the hashes
// as an RFC 9162 section 2.1.3 inclusion proof of SHA-256(0x00 || record)
// at index in that tree, or as a section 2.1.4 consistency proof between
// the two trees. Proof.Verify does exactly this with the Merkle library's
// verifier. Making a proof reads every record up to the checkpoint (no
// hashes of inner nodes are stored).
//
// # Reading
//
// Reader.Scan iterates over records from a number on; Reader.Query
// filters them (principal, action, resource, outcome, time range) and
// pages with an opaque cursor, reading at most MaxScan records a call.
// Log.Reader sees only acknowledged records. OCSF maps a record to an
// OCSF API Activity (class 6003) event for a SIEM.
//
// # Archive and retention
//
// An Archiver (started by `securecart serve`) copies the log to object
// storage, so that the trail outlives the node, and keeps the audit
// directory to the online period. Every ArchiveOptions.Every (a minute)
// it makes one pass, reading only the directory's files:
//
//  1. Records up to the last checkpoint's size, not yet shipped, go to
//     the audit bucket as chunks: each chunk is a segment file of its
//     own (header with the compact range before it, then the frames),
//     within one local segment and at most 16 MiB, stored as
//     ORIGIN/seg/FIRST-END (END exclusive, 20 digits each).
//  2. The checkpoints not yet shipped go, as they are in the checkpoints
//     file, to ORIGIN/cp/FIRSTNUM-LASTNUM-TIME (TIME the last one's, in
//     microseconds since 1970). Records are shipped before the
//     checkpoints that cover them.
//  3. A closed segment whose records are all older than Online (90 days:
//     the next segment's first record is) is written whole to the
//     archive bucket as ORIGIN/seg/FIRST-END-BEFORE (storage class
//     GLACIER_IR; BEFORE bounds its records' times), read back and
//     compared, byte for byte, with the file. Only then does the
//     archiver store the archive boundary (ORIGIN/boundary/END, holding
//     the first checkpoint that covers record END), remove the segment
//     from the directory and delete the chunks the archived segment
//     holds.
//  4. Archived segments whose BEFORE, and checkpoint objects whose TIME,
//     are older than Retention (a year) are deleted; the newest
//     checkpoint object stays, to resume from.
//
// Segment objects are sealed (envelope, AES-256-GCM) with a data key of
// the backup domain owned by ArchiveOwner(origin), bound to the log's
// origin, bucket and key, so that the bucket reveals no principal,
// address or user agent and an object renamed does not open.
// Checkpoints are stored as they are: signed notes that hold no record,
// which anyone with the verifier key can check. A restarted archiver
// resumes after the highest record and checkpoint that object storage
// holds. GET /v1/audit, `audit tail` and Verify read the directory, that
// is the online part.
//
// To verify the online part against the archive, `audit verify
// --from-archive` (VerifyOnline) trusts the boundary: the directory must
// start at or before record END, else the missing records are Truncated
// (an online segment deleted), and the log must extend the boundary's
// checkpoint, before which checkpoints may be missing. `audit verify
// --from FILE` with the boundary checkpoint alone checks the second part
// only. To verify what is archived,
// `audit fetch DIR` (Fetch) opens every segment object and writes it to
// DIR, with every shipped checkpoint in DIR/checkpoints and the first
// checkpoint that covers DIR's first record in DIR/start.checkpoint; then
// `audit verify --audit-dir DIR --from DIR/start.checkpoint` checks it as
// any log, and proofs can be made from it. An outside tool can do the
// same: open each object (the keystore's envelope format), concatenate
// the checkpoint objects, and check the segment files as "Files" and
// "Verification" describe.
//
// # Clusters
//
// Each node keeps its own log, with its own origin (config audit.origin,
// such as "node-3.shop.example/audit"), its own tree and checkpoints,
// signed with the deployment's audit key under that name, and its own
// folder of objects in the buckets. One serialized log for the whole
// cluster would put a cross-node round trip and a single sequencer
// (a row lock, or a leader) on the path of every request, which has to
// wait for its record before it runs, and would make the log's
// availability that of the sequencer; per-node logs keep that wait at one
// local fsync, a node's log is verifiable and provable on its own, and
// one node's failure leaves the other logs intact. The cluster's trail is
// the union of the node logs, ordered by time; a reviewer verifies each.
// Nodes that share object storage must have different origins, or their
// archives overwrite each other.
//
// The log needs a durable local directory on each node; a node lost with
// its disk loses at most the records of one ship interval, which the
// archive does not yet hold. Keeping node logs in PostgreSQL tables (for
// nodes without a durable disk) is not built.
//
// # Limits
//
//   - Open reads every local segment to rebuild the compact range: its
//     time grows with the log (about a second per few hundred MB).
//   - Query scans segments in order, skipping only segments that end
//     before Filter.Since; there is no index.
//   - Proofs read every record up to their checkpoint.
//   - The crash test kills the process; it does not cut the power. Records
//     survive a power cut only if the disk honours fsync.
//   - The local checkpoints file keeps every checkpoint (about 200 bytes
//     each, at most one a second); retention removes old checkpoints
//     from object storage only.
//   - The archiver ships a minute at a time by default: a node lost with
//     its disk loses up to that much of its trail.
//   - A segment stays online until the next one starts, so an idle log
//     keeps its last segment past the online period.
//   - Only one process may append, and the server holds the log while it
//     runs: a command that records itself on the host (keys, backups,
//     restores, admin recover) refuses while a server runs, and reading
//     commands (verify, tail, export) do not record themselves.
//   - No PostgreSQL store for node logs (see Clusters).
package audit
