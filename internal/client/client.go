// Package client is a small client of SecureCart's HTTPS API, for the
// commands that change a running deployment: they act with the caller's
// API key, so policy and (later) the audit trail apply to them as to any
// request.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"
)

// Client calls the API.
type Client struct {
	base string
	key  string
	hc   *http.Client
}

// New returns a client of the API at baseURL that trusts the CA in caFile
// (the local CA's certificate; empty for the system roots).
func New(baseURL, apiKey, caFile string) (*Client, error) {
	if !strings.HasPrefix(baseURL, "https://") {
		return nil, errors.New("client: the API is served over https:// only")
	}
	if apiKey == "" {
		return nil, errors.New("client: no API key (set SECURECART_API_KEY or --api-key)")
	}
	cfg, err := tlsConfig(caFile)
	if err != nil {
		return nil, err
	}
	return &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey,
		hc: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}}, nil
}

func tlsConfig(caFile string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("client: read CA: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("client: %s holds no certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// Problem is an error answer of the API.
type Problem struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Title     string `json:"title"`
	Detail    string `json:"detail"`
	Field     string `json:"field"`
	RequestID string `json:"request_id"`
}

func (p *Problem) Error() string {
	msg := fmt.Sprintf("%d %s: %s", p.Status, p.Code, p.Title)
	if p.Detail != "" {
		msg += " (" + p.Detail
		if p.Field != "" {
			msg += ": " + p.Field
		}
		msg += ")"
	}
	return msg
}

// Do sends in as JSON (when not nil) and decodes a 2xx answer into out
// (when not nil); other answers come back as *Problem.
func (c *Client) Do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		p := &Problem{Status: resp.StatusCode}
		json.Unmarshal(data, p)
		if p.Code == "" {
			p.Code, p.Title = "http_error", http.StatusText(resp.StatusCode)
		}
		return p
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}

// WithoutKey returns a copy of c that sends no credentials, for signing in.
func (c *Client) WithoutKey() *Client {
	d := *c
	d.key = ""
	return &d
}
