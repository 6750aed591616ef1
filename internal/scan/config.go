package scan

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultMinConfidence is the confidence below which a scan drops a
// finding unless told otherwise: a bare run of digits that passes the
// Luhn check with no word about cards near it stays below it.
const DefaultMinConfidence = 0.5

const maxConfigFile = 1 << 20

// Config is the scan configuration file, JSON:
//
//	{
//	  "detectors": ["card", "email", "iban"],
//	  "min_confidence": 0.5,
//	  "allow": {
//	    "test_cards": true,
//	    "hmac_key_file": "/etc/securecart/scan-allow.key",
//	    "values": ["3f1c…"],
//	    "paths": ["testdata/**", "**/*.md"]
//	  },
//	  "custom": [{"name": "employee_id", "prefix": "EMP-",
//	              "pattern": "EMP-[0-9]{6}", "keywords": ["employee"]}]
//	}
//
// A relative hmac_key_file is read from the configuration file's folder.
type Config struct {
	Detectors     []string `json:"detectors,omitempty"`
	MinConfidence *float64 `json:"min_confidence,omitempty"`
	Allow         struct {
		TestCards   bool     `json:"test_cards"`
		HMACKeyFile string   `json:"hmac_key_file,omitempty"`
		Values      []string `json:"values,omitempty"`
		Paths       []string `json:"paths,omitempty"`
	} `json:"allow"`
	Custom []*Custom `json:"custom,omitempty"`
}

// LoadConfig reads a configuration file and returns the options it
// describes.
func LoadConfig(file string) (Options, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return Options{}, fmt.Errorf("read scan configuration: %w", err)
	}
	if len(b) > maxConfigFile {
		return Options{}, fmt.Errorf("read scan configuration: %s is larger than 1 MiB", file)
	}
	var c Config
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return Options{}, fmt.Errorf("parse scan configuration %s: %w", file, err)
	}
	return c.options(filepath.Dir(file))
}

func (c *Config) options(dir string) (Options, error) {
	o := Options{MinConfidence: DefaultMinConfidence, Custom: c.Custom}
	if c.MinConfidence != nil {
		o.MinConfidence = *c.MinConfidence
	}
	if len(c.Detectors) > 0 {
		set, err := ParseSet(c.Detectors)
		if err != nil {
			return Options{}, err
		}
		o.Detectors = set
	}

	a := &AllowList{TestCards: c.Allow.TestCards, Paths: c.Allow.Paths}
	if len(c.Allow.Values) > 0 {
		if c.Allow.HMACKeyFile == "" {
			return Options{}, fmt.Errorf("scan configuration: allow.values needs allow.hmac_key_file")
		}
		kf := c.Allow.HMACKeyFile
		if !filepath.IsAbs(kf) {
			kf = filepath.Join(dir, kf)
		}
		key, err := ReadKeyFile(kf)
		if err != nil {
			return Options{}, err
		}
		a.Key, a.Values = key, map[string]bool{}
		for _, v := range c.Allow.Values {
			a.Values[strings.ToLower(v)] = true
		}
	}
	o.Allow = a
	return o, nil
}

// ReadKeyFile reads an allow-list HMAC key: at least 32 bytes, written
// as hex.
func ReadKeyFile(file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read allow-list key: %w", err)
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(key) < 32 {
		return nil, fmt.Errorf("read allow-list key %s: want at least 32 bytes as hex", file)
	}
	return key, nil
}
