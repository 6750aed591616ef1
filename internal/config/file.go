package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// ServeConfig is how a node serves the API.
type ServeConfig struct {
	Listen       string
	HTTPRedirect string
	Hostnames    []string
	TLSCert      string
	TLSKey       string
	// ACMEHosts, if set, are public names whose certificates come from
	// Let's Encrypt over ACME instead of the local CA; ACMEEmail is the
	// contact address given to it.
	ACMEHosts []string
	ACMEEmail string
	// Networks maps a network name that policies test ("application",
	// "payment") to CIDRs.
	Networks map[string][]string
	// RateLimits are requests per second and bursts by role; they replace
	// the built-in limit of each role they name.
	RateLimits map[string]RateLimit
	// DisableServiceKeys refuses the API keys of service principals, which
	// must then present a client certificate from the local CA. The
	// bootstrap key, which only enrols the first admin, still works.
	DisableServiceKeys bool
}

// RateLimit is a token bucket.
type RateLimit struct {
	Rate  float64 `json:"rate"`
	Burst int     `json:"burst"`
}

// maxFile bounds a configuration file.
const maxFile = 1 << 20

// fileConfig is the JSON form of a configuration file. Every field is
// optional; a field that is present replaces the default.
type fileConfig struct {
	DataDir         *string      `json:"data_dir"`
	Database        *string      `json:"database"`
	RootKeyProvider *string      `json:"root_key_provider"`
	RootKeyFile     *string      `json:"root_key_file"`
	CryptoPeriod    *string      `json:"crypto_period"`
	KeyCacheSize    *int         `json:"key_cache_size"`
	Serve           *fileServe   `json:"serve"`
	Storage         *fileStorage `json:"storage"`
	Backup          *fileBackup  `json:"backup"`
	Audit           *fileAudit   `json:"audit"`
}

type fileServe struct {
	Listen       *string              `json:"listen"`
	HTTPRedirect *string              `json:"http_redirect"`
	Hostnames    []string             `json:"hostnames"`
	TLSCert      *string              `json:"tls_cert"`
	TLSKey       *string              `json:"tls_key"`
	ACMEHosts    []string             `json:"acme_hosts"`
	ACMEEmail    *string              `json:"acme_email"`
	Networks     map[string][]string  `json:"networks"`
	RateLimits   map[string]RateLimit `json:"rate_limits"`
	// DisableServiceKeys is serve.disable_service_keys.
	DisableServiceKeys *bool `json:"disable_service_keys"`
}

// LoadFile applies the JSON configuration file at path to c. Unknown
// fields, trailing data and files over 1 MiB are refused, so a typo is an
// error rather than a silently ignored setting.
func (c *Config) LoadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config file: %w", err)
	}
	if len(b) > maxFile {
		return fmt.Errorf("config file %s: larger than 1 MiB", path)
	}
	var f fileConfig
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("config file %s: %w", path, err)
	}
	if dec.More() {
		return fmt.Errorf("config file %s: data after the JSON object", path)
	}
	return c.apply(f)
}

func (c *Config) apply(f fileConfig) error {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&c.DataDir, f.DataDir)
	set(&c.Database, f.Database)
	set(&c.RootKeyProvider, f.RootKeyProvider)
	set(&c.RootKeyFile, f.RootKeyFile)
	if f.CryptoPeriod != nil {
		d, err := time.ParseDuration(*f.CryptoPeriod)
		if err != nil {
			return fmt.Errorf("crypto_period: %w", err)
		}
		c.CryptoPeriod = d
	}
	if f.KeyCacheSize != nil {
		c.KeyCacheSize = *f.KeyCacheSize
	}
	if err := c.applyStorage(f.Storage, f.Backup); err != nil {
		return err
	}
	if err := c.applyAudit(f.Audit); err != nil {
		return err
	}
	if s := f.Serve; s != nil {
		set(&c.Serve.Listen, s.Listen)
		set(&c.Serve.HTTPRedirect, s.HTTPRedirect)
		set(&c.Serve.TLSCert, s.TLSCert)
		set(&c.Serve.TLSKey, s.TLSKey)
		set(&c.Serve.ACMEEmail, s.ACMEEmail)
		if s.DisableServiceKeys != nil {
			c.Serve.DisableServiceKeys = *s.DisableServiceKeys
		}
		if s.ACMEHosts != nil {
			c.Serve.ACMEHosts = s.ACMEHosts
		}
		if s.Hostnames != nil {
			c.Serve.Hostnames = s.Hostnames
		}
		if s.Networks != nil {
			c.Serve.Networks = s.Networks
		}
		for role, l := range s.RateLimits {
			if l.Rate <= 0 || l.Burst <= 0 {
				return errors.New("rate_limits: " + role + ": rate and burst must be positive")
			}
			if c.Serve.RateLimits == nil {
				c.Serve.RateLimits = map[string]RateLimit{}
			}
			c.Serve.RateLimits[role] = l
		}
	}
	return nil
}
