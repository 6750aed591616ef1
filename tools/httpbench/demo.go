package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/demo"
)

// unlimited is a token bucket no load from one machine empties.
var unlimited = config.RateLimit{Rate: 1e6, Burst: 1e6}

// startTimeout bounds building the demo shop and starting to serve.
const startTimeout = 5 * time.Minute

type server struct {
	cmd    *exec.Cmd
	exited chan error
	creds  demo.Credentials
}

// startDemo starts `securecart demo` in dir and waits until it answers
// /healthz.
func startDemo(ctx context.Context, bin, dir string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfg := map[string]any{"serve": map[string]any{"rate_limits": map[string]config.RateLimit{
		"developer": unlimited, "app-service": unlimited, "payment-provider": unlimited,
	}}}
	b, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "config.json")
	if err := os.WriteFile(cfgPath, b, 0o600); err != nil {
		return nil, fmt.Errorf("write config: %w", err)
	}

	data := filepath.Join(dir, "data")
	logPath := filepath.Join(dir, "demo.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("create demo log: %w", err)
	}
	defer logFile.Close()
	cmd := exec.CommandContext(ctx, bin, "--config", cfgPath, "demo", "--data-dir", data, "--listen", addr)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start demo: %w", err)
	}
	s := &server{cmd: cmd, exited: make(chan error, 1)}
	go func() { s.exited <- cmd.Wait() }()

	deadline := time.After(startTimeout)
	credsPath := filepath.Join(data, "demo-credentials.json")
	for {
		select {
		case err := <-s.exited:
			return nil, fmt.Errorf("demo exited before serving (%v); its output is in %s", err, logPath)
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("demo not ready after %s", startTimeout)
		case <-time.After(200 * time.Millisecond):
		}
		creds, err := demo.ReadCredentials(credsPath)
		if err != nil || creds.BaseURL != "https://"+addr {
			continue
		}
		if healthy(creds) == nil {
			s.creds = creds
			return s, nil
		}
	}
}

// stop interrupts the demo, which shuts down gracefully, and kills it if
// it has not exited ten seconds later.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

func healthy(c demo.Credentials) error {
	pem, err := os.ReadFile(c.CAFile)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no certificate in " + c.CAFile)
	}
	client := &http.Client{
		Timeout:   2 * time.Second,
		Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}},
	}
	resp, err := client.Get(c.BaseURL + "/healthz")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz: %s", resp.Status)
	}
	return nil
}

// freeAddr returns a loopback address with a port nothing listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}
