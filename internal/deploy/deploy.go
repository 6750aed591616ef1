// Package deploy opens the parts of a SecureCart deployment from its
// configuration: the database, the keystore with its root key provider, and
// the store. The command line and the server both start here.
package deploy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/identity"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/sqldb"
	"github.com/securecart/securecart/internal/sqldb/postgres"
	"github.com/securecart/securecart/internal/sqldb/sqlite"
	"github.com/securecart/securecart/internal/store"
)

// Deployment is an open deployment.
type Deployment struct {
	Config   config.Config
	DB       sqldb.DB
	Keys     *keys.Keystore
	Store    *store.Store
	Identity *identity.Directory
}

// Options are what opening needs beyond the configuration.
type Options struct {
	// Passphrase returns the root passphrase when the passphrase provider
	// is configured and SECURECART_ROOT_PASSPHRASE is not set.
	Passphrase func() ([]byte, error)
	// Getenv reads the environment (default: none).
	Getenv func(string) string
	Logger *slog.Logger
}

// OpenDB opens the configured database.
func OpenDB(ctx context.Context, cfg config.Config) (sqldb.DB, error) {
	if cfg.IsPostgres() {
		return postgres.Open(ctx, cfg.Database)
	}
	if err := cfg.EnsureDataDir(); err != nil {
		return nil, err
	}
	return sqlite.Open(ctx, cfg.SQLitePath(), sqlite.Options{})
}

// Provider returns the configured root key provider over db.
func Provider(cfg config.Config, db sqldb.DB, opts Options) (keys.Provider, error) {
	switch cfg.RootKeyProvider {
	case config.ProviderPassphrase:
		var pass []byte
		if opts.Getenv != nil {
			pass = []byte(opts.Getenv(config.PassphraseEnv))
		}
		if len(pass) == 0 && opts.Passphrase != nil {
			var err error
			if pass, err = opts.Passphrase(); err != nil {
				return nil, err
			}
		}
		if len(pass) == 0 {
			return nil, &keys.HintedError{Err: errors.New("no root passphrase"),
				Hint: "set " + config.PassphraseEnv + " or run securecart from a terminal to be prompted"}
		}
		return &keys.PassphraseProvider{Passphrase: pass, Meta: keys.Meta{DB: db}}, nil
	default:
		return &keys.FileProvider{Path: cfg.KeyFile()}, nil
	}
}

// Open opens the database, the keystore and the store.
func Open(ctx context.Context, cfg config.Config, opts Options) (*Deployment, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	db, err := OpenDB(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d, err := open(ctx, cfg, db, opts)
	if err != nil {
		db.Close()
		return nil, err
	}
	return d, nil
}

func open(ctx context.Context, cfg config.Config, db sqldb.DB, opts Options) (*Deployment, error) {
	p, err := Provider(cfg, db, opts)
	if err != nil {
		return nil, err
	}
	ks, err := keys.Open(ctx, db, p, keys.Config{
		CacheSize:    cfg.KeyCacheSize,
		CryptoPeriod: cfg.CryptoPeriod,
		Logger:       opts.Logger.With("subsystem", "keys"),
	})
	if err != nil {
		return nil, err
	}
	st, err := store.Open(ctx, db, ks)
	if err != nil {
		ks.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	dir, err := identity.Open(ctx, db)
	if err != nil {
		ks.Close()
		return nil, fmt.Errorf("open identity directory: %w", err)
	}
	dir.SetSealer(identity.KeystoreSealer(ks, db))
	return &Deployment{Config: cfg, DB: db, Keys: ks, Store: st, Identity: dir}, nil
}

// Close releases the deployment.
func (d *Deployment) Close() error {
	d.Keys.Close()
	return d.DB.Close()
}
