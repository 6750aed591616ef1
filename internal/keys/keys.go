// Package keys is SecureCart's key hierarchy: a root key, versioned
// key-encryption keys (KEKs) per data domain, and data keys.
//
// # Hierarchy
//
//	root key (from a Provider: a key file, a passphrase, later a cloud KMS)
//	  └─ KEK, one per domain and version (customer-pii, payment-card, orders,
//	     backup, blind-index, audit-signing), wrapped under the root key
//	       └─ data keys, one per customer (and per vault entry), wrapped
//	          under the KEK version active when the data key was created
//
// Every wrapped key is itself an envelope (package envelope) bound to its
// table, column and row, so a wrapped key copied to another row does not
// open. Only wrapped forms are stored; the keystore's tables are never part
// of the change log, so data backups contain no keys, and the keystore has
// its own backup (Snapshot).
//
// # Data keys
//
// A customer's data key seals its PII and its order notes. Data keys are
// created ahead in batches and assigned to a customer inside the customer's
// own transaction (Assign), so creating a customer costs one commit. Ready
// AES-GCM instances are cached in a bounded LRU. Each data key counts its
// seals durably: seals are reserved in blocks recorded in the database before
// use, so a restart can only overcount. Before a key reaches SealCap seals
// (default 2^30, far under the 2^32 limit of random 96-bit nonces) its owner
// is given a new key; the old one stays readable.
//
// Envelope headers name a data key by its id with key version 0.
//
// # Rotation and destruction
//
// Rotate adds a KEK version; new data keys are wrapped under it and old ones
// stay readable. Rewrap moves existing data keys onto the newest version
// without touching any sealed field. A version is destroyed only when
// nothing is wrapped under it. Shred destroys an owner's data keys, which
// makes every copy of its sealed fields unreadable, wherever the copy is.
//
// In a cluster a node caches a data key for at most CacheTTL before checking
// that it still exists, so a shred on one node reaches the others' memory
// within that time. Go's AES implementation keeps its expanded key inside
// the cipher object, which cannot be wiped; the raw key bytes are.
//
// # Blind index
//
// BlindToken lets the store find a row by an exact value (a normalized
// email) without opening anything: a 4-byte key version and the first 12
// bytes of HMAC-SHA-256 under a key derived from the blind-index KEK.
// Truncation keeps the index small at a collision chance of about n²/2^97
// for n values (under 10^-16 for a million customers), and the store
// confirms a match by opening the sealed value. What remains is the leak of
// every deterministic index: equal values have equal tokens, so a reader of
// the table learns which rows share an email (not what it is), and a thief
// who also holds the key can test guesses. Rotating the blind-index KEK
// makes the store re-index online; lookups try every live version meanwhile.
//
// # Errors
//
// Open and OpenAll return envelope.ErrMalformed, envelope.ErrAuth,
// ErrUnknownKey or ErrKeyDestroyed, and nothing else that depends on the
// secret.
package keys

import (
	"context"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/sqldb"
)

// Domain is a key domain.
type Domain = envelope.Domain

// State is the state of a key-encryption key or a data key.
type State int

// Key states.
const (
	// Active keys wrap or seal new values.
	Active State = 1
	// DecryptOnly keys open what they sealed but seal nothing new.
	DecryptOnly State = 2
	// Destroyed keys have no material left.
	Destroyed State = 3
)

func (s State) String() string {
	switch s {
	case Active:
		return "active"
	case DecryptOnly:
		return "decrypt-only"
	case Destroyed:
		return "destroyed"
	}
	return "state(" + strconv.Itoa(int(s)) + ")"
}

// Errors of the keystore.
var (
	// ErrUnknownKey means no key with the envelope's id exists.
	ErrUnknownKey = errors.New("keys: unknown key")
	// ErrKeyDestroyed means the key existed and was destroyed (crypto-shredded).
	ErrKeyDestroyed = errors.New("keys: key destroyed")
	// ErrInUse means a key version still has keys or data under it.
	ErrInUse = errors.New("keys: key version in use")
	// ErrKeyTaken means a pooled data key was already assigned elsewhere.
	ErrKeyTaken = errors.New("keys: data key already assigned")
	// ErrNoActiveKey means an owner has no active data key.
	ErrNoActiveKey = errors.New("keys: owner has no active data key")
)

// Config tunes a keystore. Zero values take the defaults.
type Config struct {
	// CacheSize bounds the number of unwrapped data keys kept in memory.
	CacheSize int
	// CacheTTL is how long a cached data key is trusted before its state is
	// checked again (default 1 minute).
	CacheTTL time.Duration
	// PoolSize is how many unassigned data keys are kept ready per domain.
	PoolSize int
	// SealCap is the number of seals after which a data key is replaced.
	SealCap uint64
	// ReserveBlock is how many seals are reserved durably at a time.
	ReserveBlock uint64
	// CryptoPeriod is how long a KEK version stays active before scheduled
	// rotation (default 365 days).
	CryptoPeriod time.Duration
	// Logger receives background events; never key material.
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
}

func (c *Config) defaults() {
	if c.CacheSize <= 0 {
		c.CacheSize = 65536
	}
	if c.CacheTTL <= 0 {
		c.CacheTTL = time.Minute
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 256
	}
	if c.SealCap == 0 {
		c.SealCap = 1 << 30
	}
	if c.ReserveBlock == 0 {
		c.ReserveBlock = 1 << 14
	}
	if c.ReserveBlock > c.SealCap {
		c.ReserveBlock = c.SealCap
	}
	if c.CryptoPeriod <= 0 {
		c.CryptoPeriod = 365 * 24 * time.Hour
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// initialReserve is the seal budget recorded with a pooled data key when it
// is created, so that the seals of a new customer need no extra commit.
const initialReserve = 64

// kek is one version of a domain's key-encryption key.
type kek struct {
	domain   Domain
	version  uint32
	state    State
	created  time.Time
	stateAt  time.Time
	material *secret // nil once destroyed
	aead     cipher.AEAD
}

// dataKey is an unwrapped data key.
type dataKey struct {
	id     uint64
	domain Domain
	aead   cipher.AEAD

	mu      sync.Mutex
	owner   string
	used    uint64       // seals counted against the reservation
	limit   uint64       // durable reservation
	checked atomic.Int64 // Unix nanoseconds of the last check that it exists
}

// DataKey is a data key handed out for a new owner: seal with it, then assign
// it in the owner's transaction.
type DataKey struct{ k *dataKey }

// ID returns the data key's id.
func (d DataKey) ID() uint64 { return d.k.id }

// Keystore is the key hierarchy over a database.
type Keystore struct {
	db       sqldb.DB
	provider Provider
	cfg      Config
	log      *slog.Logger

	rootMu   sync.RWMutex
	root     RootKey
	rootAEAD cipher.AEAD

	// refreshMu serializes Refresh, so that a reload that read the
	// database first cannot install its older map (and wipe material the
	// newer one shares) after a later reload.
	refreshMu sync.Mutex

	mu    sync.RWMutex
	keks  map[Domain][]*kek // ascending versions
	usage map[Domain][]UsageFunc

	coarse    atomic.Int64 // Unix nanoseconds, see startClock
	stopClock chan struct{}
	clockDone chan struct{}
	closeOnce sync.Once

	seals, opens atomic.Uint64 // see Operations

	cache  *cache[uint64, *dataKey]
	owners *cache[string, *dataKey]

	poolMu    sync.Mutex
	pools     map[Domain]chan *dataKey
	refilling map[Domain]bool
	bg        sync.WaitGroup

	bidxMu sync.Mutex
	bidx   map[uint32]*blindKey
}

// UsageFunc counts, inside tx, what still depends on a KEK version outside
// the keystore (for instance blind-index entries). Destroy refuses a version
// while any usage function reports a non-zero count.
type UsageFunc func(ctx context.Context, tx sqldb.Tx, version uint32) (int64, error)

const metaRootID = "root_id"

// Open opens the keystore in db, creating the root key and the first KEK of
// every domain on first start. It refuses to start with a missing or wrong
// root key, with a hint for the operator.
func Open(ctx context.Context, db sqldb.DB, p Provider, cfg Config) (*Keystore, error) {
	cfg.defaults()
	if err := db.Migrate(ctx, Component, Migrations); err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	k := &Keystore{
		db: db, provider: p, cfg: cfg, log: cfg.Logger,
		keks:      make(map[Domain][]*kek),
		usage:     make(map[Domain][]UsageFunc),
		pools:     make(map[Domain]chan *dataKey),
		refilling: make(map[Domain]bool),
		bidx:      make(map[uint32]*blindKey),
	}
	if cfg.Now == nil {
		k.cfg.Now = time.Now
		k.startClock()
	}
	k.cache = newCache[uint64, *dataKey](cfg.CacheSize)
	k.owners = newCache[string, *dataKey](cfg.CacheSize)
	if err := k.loadRoot(ctx); err != nil {
		return nil, err
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	return k, nil
}

// loadRoot loads the root key, initializing the keystore on first start and
// finishing a root rotation that a crash interrupted.
func (k *Keystore) loadRoot(ctx context.Context) error {
	meta := Meta{k.db}
	want, err := meta.GetMeta(ctx, metaRootID)
	if err != nil && !errors.Is(err, ErrNoMeta) {
		return fmt.Errorf("open keystore: %w", err)
	}
	root, err := k.provider.Load(ctx)
	switch {
	case errors.Is(err, ErrNoRootKey) && want == nil:
		if root, err = NewRootKey(); err != nil {
			return err
		}
		if err := k.provider.Save(ctx, root); err != nil {
			return fmt.Errorf("open keystore: save new root key: %w", err)
		}
	case errors.Is(err, ErrNoRootKey):
		return &HintedError{
			Err: fmt.Errorf("open keystore: the root key (%s provider) is missing", k.provider.Kind()),
			Hint: "restore it with 'securecart keys import-root' from its recovery export, " +
				"or point the configuration at the right key",
		}
	case err != nil:
		return fmt.Errorf("open keystore: %w", err)
	}

	if want != nil && root.ID() != string(want) {
		staged, serr := k.provider.Staged(ctx)
		if serr != nil || staged.ID() != string(want) {
			return &HintedError{
				Err:  fmt.Errorf("open keystore: the root key (id %s) does not match this keystore (id %s)", root.ID(), want),
				Hint: "the configured root key belongs to another deployment; configure this deployment's key or import it with 'securecart keys import-root'",
			}
		}
		if err := k.provider.Promote(ctx); err != nil {
			return fmt.Errorf("open keystore: finish root rotation: %w", err)
		}
		root = staged
	} else if _, serr := k.provider.Staged(ctx); serr == nil {
		if err := k.provider.Discard(ctx); err != nil {
			return fmt.Errorf("open keystore: discard unfinished root rotation: %w", err)
		}
	}
	if err := k.setRoot(root); err != nil {
		return err
	}
	if want == nil {
		return k.initialize(ctx)
	}
	return nil
}

func (k *Keystore) setRoot(root RootKey) error {
	aead, err := root.s.aead()
	if err != nil {
		return err
	}
	k.rootMu.Lock()
	k.root, k.rootAEAD = root, aead
	k.rootMu.Unlock()
	return nil
}

// initialize creates version 1 of every domain's KEK and records the root.
func (k *Keystore) initialize(ctx context.Context) error {
	now := k.cfg.Now()
	return k.db.Write(ctx, func(tx sqldb.Tx) error {
		var n int64
		if err := tx.QueryRow(ctx, "SELECT COUNT(*) FROM ks_keks").Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			for _, d := range envelope.Domains {
				if err := k.insertKEK(ctx, tx, d, 1, now); err != nil {
					return err
				}
			}
		}
		return putMeta(ctx, tx, metaRootID, []byte(k.rootID()))
	})
}

func (k *Keystore) rootID() string {
	k.rootMu.RLock()
	defer k.rootMu.RUnlock()
	return k.root.ID()
}

func kekBinding(d Domain, version uint32) envelope.Binding {
	return envelope.Binding{Table: "ks_keks", Column: "wrapped",
		Row: d.String() + "/" + strconv.FormatUint(uint64(version), 10)}
}

func dataKeyBinding(id uint64) envelope.Binding {
	return envelope.Binding{Table: "ks_data_keys", Column: "wrapped",
		Row: strconv.FormatUint(id, 10)}
}

// insertKEK generates a KEK version, wraps it under the root key and stores it.
func (k *Keystore) insertKEK(ctx context.Context, tx sqldb.Tx, d Domain, version uint32, now time.Time) error {
	s, err := newSecret()
	if err != nil {
		return err
	}
	defer s.wipe()
	k.rootMu.RLock()
	wrapped, err := envelope.Seal(k.rootAEAD, envelope.Header{Domain: d, KeyVersion: version},
		kekBinding(d, version), s.b[:])
	rid := k.root.ID()
	k.rootMu.RUnlock()
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, "INSERT INTO ks_keks (domain, version, state, created_at, state_at,"+
		" root_id, wrapped) VALUES (?, ?, ?, ?, ?, ?, ?)",
		int64(d), int64(version), int64(Active), sqldb.Micros(now), sqldb.Micros(now), rid, wrapped)
	return err
}

// Refresh reloads the KEKs from the database, picking up rotations and
// destructions made by other nodes.
func (k *Keystore) Refresh(ctx context.Context) error {
	k.refreshMu.Lock()
	defer k.refreshMu.Unlock()
	type row struct {
		d                Domain
		v, state         int64
		created, stateAt int64
		wrapped          []byte
	}
	var rows []row
	err := k.db.Read(ctx, func(tx sqldb.Tx) error {
		rs, err := tx.Query(ctx, "SELECT domain, version, state, created_at, state_at, wrapped"+
			" FROM ks_keks ORDER BY domain, version")
		if err != nil {
			return err
		}
		defer rs.Close()
		for rs.Next() {
			var r row
			var d int64
			if err := rs.Scan(&d, &r.v, &r.state, &r.created, &r.stateAt, &r.wrapped); err != nil {
				return err
			}
			r.d = Domain(d)
			rows = append(rows, r)
		}
		return rs.Err()
	})
	if err != nil {
		return fmt.Errorf("load key-encryption keys: %w", err)
	}

	k.mu.RLock()
	old := k.keks
	k.mu.RUnlock()
	keks := make(map[Domain][]*kek)
	for _, r := range rows {
		kk := &kek{domain: r.d, version: uint32(r.v), state: State(r.state),
			created: sqldb.FromMicros(r.created), stateAt: sqldb.FromMicros(r.stateAt)}
		if prev := findKEK(old[r.d], kk.version); prev != nil && prev.material != nil && kk.state != Destroyed {
			kk.material, kk.aead = prev.material, prev.aead
		} else if kk.state != Destroyed {
			if err := k.unwrapKEK(kk, r.wrapped); err != nil {
				return err
			}
		}
		keks[r.d] = append(keks[r.d], kk)
	}
	k.mu.Lock()
	k.keks = keks
	k.mu.Unlock()
	for _, list := range old {
		for _, kk := range list {
			if nk := findKEK(keks[kk.domain], kk.version); (nk == nil || nk.material == nil) && kk.material != nil {
				kk.material.wipe()
			}
		}
	}
	return nil
}

func findKEK(list []*kek, v uint32) *kek {
	for _, kk := range list {
		if kk.version == v {
			return kk
		}
	}
	return nil
}

func (k *Keystore) unwrapKEK(kk *kek, wrapped []byte) error {
	k.rootMu.RLock()
	pt, err := envelope.Open(k.rootAEAD, wrapped, kekBinding(kk.domain, kk.version))
	k.rootMu.RUnlock()
	if err != nil {
		return fmt.Errorf("unwrap %s key version %d: %w", kk.domain, kk.version, err)
	}
	defer clear(pt)
	if kk.material, err = secretFrom(pt); err != nil {
		return err
	}
	kk.aead, err = kk.material.aead()
	return err
}

// active returns the active KEK of d.
func (k *Keystore) active(d Domain) (*kek, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	list := k.keks[d]
	for i := len(list) - 1; i >= 0; i-- {
		if list[i].state == Active {
			return list[i], nil
		}
	}
	return nil, fmt.Errorf("keys: no active %s key", d)
}

func (k *Keystore) kekVersion(d Domain, v uint32) (*kek, error) {
	k.mu.RLock()
	defer k.mu.RUnlock()
	kk := findKEK(k.keks[d], v)
	if kk == nil {
		return nil, ErrUnknownKey
	}
	if kk.state == Destroyed || kk.aead == nil {
		return nil, ErrKeyDestroyed
	}
	return kk, nil
}

// RegisterUsage adds a check that Destroy consults for domain d.
func (k *Keystore) RegisterUsage(d Domain, fn UsageFunc) {
	k.mu.Lock()
	k.usage[d] = append(k.usage[d], fn)
	k.mu.Unlock()
}

// Format prints a placeholder for every verb. A keystore holds unwrapped
// keys, and fmt would reach them (the root key's AES schedule) through its
// unexported fields.
func (k *Keystore) Format(f fmt.State, _ rune) { f.Write([]byte("[keystore]")) }

// Close waits for background work to finish.
func (k *Keystore) Close() {
	k.closeOnce.Do(func() {
		if k.stopClock != nil {
			close(k.stopClock)
			<-k.clockDone
		}
	})
	k.bg.Wait()
}

// clockTick is the resolution of the keystore's coarse clock.
const clockTick = 250 * time.Millisecond

// startClock keeps a coarse copy of the time, so that the cache's freshness
// checks on every seal and open do not each read the clock.
func (k *Keystore) startClock() {
	k.coarse.Store(time.Now().UnixNano())
	k.stopClock = make(chan struct{})
	k.clockDone = make(chan struct{})
	go func() {
		defer close(k.clockDone)
		t := time.NewTicker(clockTick)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				k.coarse.Store(now.UnixNano())
			case <-k.stopClock:
				return
			}
		}
	}()
}

// nowNano is the time for freshness checks: the configured clock when a
// test set one, else the coarse clock.
func (k *Keystore) nowNano() int64 {
	if k.stopClock == nil {
		return k.cfg.Now().UnixNano()
	}
	return k.coarse.Load()
}

// idEpoch is the origin of data key ids' time part.
var idEpoch = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

// lastID is the last data key id this process handed out.
var lastID atomic.Uint64

// newDataKeyID returns a data key id: milliseconds since idEpoch in the high
// bits and 20 random bits below, never smaller than the previous id. New keys
// therefore sit together at the end of the table, so the commits that create
// and assign them touch few pages. Ids are not secret (envelope headers carry
// them); two nodes that pick the same id in the same millisecond get a
// primary-key conflict, and the pool retries.
func newDataKeyID() (uint64, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return 0, err
	}
	ms := uint64(time.Since(idEpoch).Milliseconds())
	cand := ms<<20 | uint64(binary.BigEndian.Uint32(b[:])&(1<<20-1))
	for {
		last := lastID.Load()
		id := max(cand, last+1) & (1<<63 - 1)
		if id == 0 {
			id = 1
		}
		if lastID.CompareAndSwap(last, id) {
			return id, nil
		}
	}
}

// MarshalText spells the state as List prints it.
func (s State) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
