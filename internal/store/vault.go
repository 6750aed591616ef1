package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/envelope"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
)

// The payment vault keeps card numbers under tokens. Each token has its own
// data key in the payment-card domain, so deleting a token destroys its key
// and the card cannot be opened again from any copy, backups included. The
// card number, its expiry and the cardholder name are sealed; the brand,
// the first six and the last four digits are kept in clear, which is as
// much as is ever shown.

// NewCard is a validated card to keep. The caller (package payments)
// checks the number, computes the fingerprint and chooses the options.
type NewCard struct {
	PAN         string
	ExpMonth    int
	ExpYear     int
	Holder      string
	Brand       string
	Fingerprint []byte
	SingleUse   bool
	// ExpiresAt ends the token's life; zero keeps it until deleted.
	ExpiresAt time.Time
	CreatedBy string
}

// CardToken is what may be said about a kept card without its number.
type CardToken struct {
	Token       string
	Brand       string
	First6      string
	Last4       string
	ExpMonth    int
	ExpYear     int
	Fingerprint []byte
	SingleUse   bool
	ExpiresAt   time.Time // zero: no time to live
	CreatedAt   time.Time
}

// Card is a kept card with its number, for the payment provider only.
type Card struct {
	CardToken
	PAN    string
	Holder string
}

const tokenPrefix = "tok_"

// tokenLen is the length of a token: the prefix and 160 random bits.
const tokenLen = len(tokenPrefix) + 32

// newToken returns a random token. It is drawn from crypto/rand alone and
// carries nothing of the card.
func newToken() string {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("store: crypto/rand failed: " + err.Error())
	}
	return tokenPrefix + idEncoding.EncodeToString(b[:])
}

// ValidToken reports whether s has the shape of a vault token.
func ValidToken(s string) bool {
	if len(s) != tokenLen || !strings.HasPrefix(s, tokenPrefix) {
		return false
	}
	_, err := idEncoding.DecodeString(s[len(tokenPrefix):])
	return err == nil
}

type cardRow struct {
	Token       string `json:"id"`
	Fingerprint []byte `json:"fingerprint"`
	Brand       string `json:"brand"`
	First6      string `json:"first6"`
	Last4       string `json:"last4"`
	PAN         []byte `json:"pan"`
	Expiry      []byte `json:"expiry"`
	Holder      []byte `json:"holder"`
	SingleUse   int64  `json:"single_use"`
	UsedAt      int64  `json:"used_at"`
	ExpiresAt   int64  `json:"expires_at"`
	CreatedAt   int64  `json:"created_at"`
	CreatedBy   string `json:"created_by"`
}

const cardCols = "id, fingerprint, brand, first6, last4, pan, expiry, holder, single_use, used_at, " +
	"expires_at, created_at, created_by"

func (r *cardRow) scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&r.Token, &r.Fingerprint, &r.Brand, &r.First6, &r.Last4, &r.PAN, &r.Expiry, &r.Holder,
		&r.SingleUse, &r.UsedAt, &r.ExpiresAt, &r.CreatedAt, &r.CreatedBy)
}

func (r *cardRow) columns() []column {
	return []column{{"id", r.Token}, {"fingerprint", r.Fingerprint}, {"brand", r.Brand},
		{"first6", r.First6}, {"last4", r.Last4}, {"pan", r.PAN}, {"expiry", r.Expiry}, {"holder", r.Holder},
		{"single_use", r.SingleUse}, {"used_at", r.UsedAt}, {"expires_at", r.ExpiresAt},
		{"created_at", r.CreatedAt}, {"created_by", r.CreatedBy}}
}

// PutCard keeps a card under a new token, sealed with a data key of its
// own, in one transaction with its change record.
func (s *Store) PutCard(ctx context.Context, n NewCard) (*CardToken, error) {
	if len(n.PAN) < 12 || len(n.Fingerprint) == 0 || n.Brand == "" {
		return nil, errors.New("store: put card: the card was not validated")
	}
	now := sqldb.Micros(s.now())
	expiry := []byte(fmt.Sprintf("%02d/%04d", n.ExpMonth, n.ExpYear))
	for attempt := 0; ; attempt++ {
		token := newToken()
		key, err := s.sec.NewDataKey(ctx, envelope.PaymentCard)
		if err != nil {
			return nil, err
		}
		row := &cardRow{Token: token, Fingerprint: n.Fingerprint, Brand: n.Brand,
			First6: n.PAN[:6], Last4: n.PAN[len(n.PAN)-4:], SingleUse: boolInt(n.SingleUse),
			CreatedAt: now, CreatedBy: n.CreatedBy}
		if !n.ExpiresAt.IsZero() {
			row.ExpiresAt = sqldb.Micros(n.ExpiresAt)
		}
		for _, f := range []struct {
			col string
			dst *[]byte
			v   string
		}{{"pan", &row.PAN, n.PAN}, {"expiry", &row.Expiry, string(expiry)}, {"holder", &row.Holder, n.Holder}} {
			if f.col == "holder" && f.v == "" {
				continue
			}
			if *f.dst, err = s.sec.SealWith(ctx, key, bind("vault_cards", f.col, token), []byte(f.v)); err != nil {
				return nil, err
			}
		}
		ins, err := insertStmt("vault_cards", row.columns())
		if err != nil {
			return nil, err
		}
		after, err := encodeRow(row)
		if err != nil {
			return nil, err
		}
		stmts := []sqldb.Stmt{ins}
		if a := s.sec.AssignStmt(key, token); a.Query != "" {
			stmts = append(stmts, a)
		}
		err = s.insertWrite(ctx, stmts, change{"vault_cards", token, "insert", after}, checkAssigned)
		if (errors.Is(err, keys.ErrKeyTaken) || errors.Is(err, ErrDuplicate)) && attempt < 3 {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("put card: %w", err)
		}
		s.sec.Assigned(key, token)
		return &CardToken{Token: token, Brand: n.Brand, First6: row.First6, Last4: row.Last4,
			ExpMonth: n.ExpMonth, ExpYear: n.ExpYear, Fingerprint: n.Fingerprint, SingleUse: n.SingleUse,
			ExpiresAt: fromMicrosOrZero(row.ExpiresAt), CreatedAt: sqldb.FromMicros(now)}, nil
	}
}

// GetCardToken returns what may be said of a token without its card
// number. A token that is unknown, deleted, expired or used up is
// ErrNotFound, without saying which.
func (s *Store) GetCardToken(ctx context.Context, token string) (*CardToken, error) {
	r, err := s.liveCard(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.openCardToken(ctx, r)
}

// OpenCard returns a token's card with its number. A single-use token is
// consumed first, durably, so that two callers cannot both open it.
func (s *Store) OpenCard(ctx context.Context, token string) (*Card, error) {
	r, err := s.liveCard(ctx, token)
	if err != nil {
		return nil, err
	}
	if r.SingleUse != 0 {
		if err := s.consumeCard(ctx, r); err != nil {
			return nil, err
		}
	}
	t, err := s.openCardToken(ctx, r)
	if err != nil {
		return nil, err
	}
	c := &Card{CardToken: *t}
	pan, err := s.openCardField(ctx, r, "pan", r.PAN)
	if err != nil {
		return nil, err
	}
	c.PAN = string(pan)
	if r.Holder != nil {
		h, err := s.openCardField(ctx, r, "holder", r.Holder)
		if err != nil {
			return nil, err
		}
		c.Holder = string(h)
	}
	return c, nil
}

// DeleteCard removes a token and destroys its data key, so that its card
// opens nowhere again, backups included.
func (s *Store) DeleteCard(ctx context.Context, token string) error {
	if !ValidToken(token) {
		return ErrNotFound
	}
	err := s.write(ctx, func(w *wtx) error {
		n, err := w.Exec(ctx, "DELETE FROM vault_cards WHERE id = ?", token)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		return w.record("vault_cards", token, "delete", nil)
	})
	if err != nil {
		return fmt.Errorf("delete card: %w", err)
	}
	if _, err := s.sec.Shred(ctx, token); err != nil {
		return fmt.Errorf("delete card: destroy its key: %w", err)
	}
	return nil
}

// KeyedDigest returns an HMAC of value under the blind-index key, for
// field alone: the vault's card fingerprints and request digests.
func (s *Store) KeyedDigest(field string, value []byte) ([]byte, error) {
	return s.sec.BlindToken(field, value)
}

// CardsByFingerprint counts the live tokens whose fingerprint is fp.
func (s *Store) CardsByFingerprint(ctx context.Context, fp []byte) (int, error) {
	var n int64
	err := s.db.QueryRow(ctx, "SELECT COUNT(*) FROM vault_cards WHERE fingerprint = ?", fp).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count cards: %w", err)
	}
	return int(n), nil
}

func (s *Store) liveCard(ctx context.Context, token string) (*cardRow, error) {
	if !ValidToken(token) {
		return nil, ErrNotFound
	}
	var r cardRow
	err := r.scan(s.db.QueryRow(ctx, "SELECT "+cardCols+" FROM vault_cards WHERE id = ?", token))
	if errors.Is(err, sqldb.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get card: %w", err)
	}
	now := sqldb.Micros(s.now())
	if r.UsedAt != 0 || (r.ExpiresAt != 0 && r.ExpiresAt <= now) {
		return nil, ErrNotFound
	}
	return &r, nil
}

// checkCardLive refuses, inside w, a token that no order may refer to:
// unknown, deleted, expired or used up, without saying which.
func (w *wtx) checkCardLive(ctx context.Context, token string, now int64) error {
	var used, expires int64
	err := w.QueryRow(ctx, "SELECT used_at, expires_at FROM vault_cards WHERE id = ?", token).Scan(&used, &expires)
	if errors.Is(err, sqldb.ErrNoRows) || (err == nil && (used != 0 || (expires != 0 && expires <= now))) {
		return invalid("payment_token", "not a live payment vault token")
	}
	return err
}

// SweepCards deletes up to limit tokens that can no longer be used (their
// time to live has passed, or they were single-use and are used up),
// destroying each one's data key as DeleteCard does. It returns how many
// it deleted; a caller sweeps again while that is limit.
func (s *Store) SweepCards(ctx context.Context, limit int) (int, error) {
	if limit <= 0 {
		return 0, nil
	}
	now := sqldb.Micros(s.now())
	// No ORDER BY: with one, SQLite walks the primary key instead of the
	// two partial indexes.
	var tokens []string
	err := s.db.Read(ctx, func(tx sqldb.Tx) error {
		tokens = tokens[:0]
		rows, err := tx.Query(ctx, "SELECT id FROM vault_cards WHERE (expires_at > 0 AND expires_at <= ?) "+
			"OR used_at > 0 LIMIT ?", now, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var t string
			if err := rows.Scan(&t); err != nil {
				return err
			}
			tokens = append(tokens, t)
		}
		return rows.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("sweep cards: %w", err)
	}

	n := 0
	for _, t := range tokens {
		err := s.DeleteCard(ctx, t)
		if errors.Is(err, ErrNotFound) {
			// Deleted by someone else since the query.
			continue
		}
		if err != nil {
			return n, fmt.Errorf("sweep cards: %w", err)
		}
		n++
	}
	return n, nil
}

func (s *Store) consumeCard(ctx context.Context, r *cardRow) error {
	used := sqldb.Micros(s.now())
	return s.write(ctx, func(w *wtx) error {
		n, err := w.Exec(ctx, "UPDATE vault_cards SET used_at = ? WHERE id = ? AND used_at = 0", used, r.Token)
		if err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		after := *r
		after.UsedAt = used
		return w.record("vault_cards", r.Token, "update", &after)
	})
}

func (s *Store) openCardToken(ctx context.Context, r *cardRow) (*CardToken, error) {
	exp, err := s.openCardField(ctx, r, "expiry", r.Expiry)
	if err != nil {
		return nil, err
	}
	month, year, ok := strings.Cut(string(exp), "/")
	m, err1 := strconv.Atoi(month)
	y, err2 := strconv.Atoi(year)
	if !ok || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("open vault_cards.expiry: not MM/YYYY")
	}
	return &CardToken{Token: r.Token, Brand: r.Brand, First6: r.First6, Last4: r.Last4, ExpMonth: m, ExpYear: y,
		Fingerprint: r.Fingerprint, SingleUse: r.SingleUse != 0, ExpiresAt: fromMicrosOrZero(r.ExpiresAt),
		CreatedAt: sqldb.FromMicros(r.CreatedAt)}, nil
}

func (s *Store) openCardField(ctx context.Context, r *cardRow, col string, sealed []byte) ([]byte, error) {
	pt, err := s.sec.Open(ctx, sealed, bind("vault_cards", col, r.Token))
	if errors.Is(err, keys.ErrKeyDestroyed) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("open vault_cards.%s: %w", col, err)
	}
	return pt, nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func fromMicrosOrZero(us int64) time.Time {
	if us == 0 {
		return time.Time{}
	}
	return sqldb.FromMicros(us)
}
