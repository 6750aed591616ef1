package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/config"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/keys"
	"github.com/securecart/securecart/internal/logging"
	"github.com/securecart/securecart/internal/metrics"
	"github.com/securecart/securecart/internal/payments"
	"github.com/securecart/securecart/internal/policy"
	"github.com/securecart/securecart/internal/policy/versions"
	"github.com/securecart/securecart/internal/server"
	"github.com/securecart/securecart/internal/store"
	"github.com/securecart/securecart/internal/tlsca"
)

// serveFlags are the settings of a serving node.
type serveFlags struct {
	listen, redirect string
	hosts            []string
	certFile         string
	keyFile          string
	acmeHosts        []string
	acmeEmail        string
	appNets, payNets []string
	limits           map[string]config.RateLimit
}

func (f *serveFlags) register(cmd *cobra.Command, listen string) {
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", listen, "HTTPS address")
	fl.StringVar(&f.redirect, "http-redirect", "", "plain-HTTP address that only redirects to HTTPS (off when empty)")
	fl.StringSliceVar(&f.hosts, "hostname", nil, "names the local CA's server certificate covers (default localhost, 127.0.0.1, ::1)")
	fl.StringVar(&f.certFile, "tls-cert", "", "operator's certificate file, instead of the local CA's (reloaded on change and SIGHUP)")
	fl.StringVar(&f.keyFile, "tls-key", "", "operator's key file")
	fl.StringSliceVar(&f.acmeHosts, "acme-host", nil, "public names to get certificates for from Let's Encrypt (ACME)")
	fl.StringVar(&f.acmeEmail, "acme-email", "", "contact address for the ACME account")
	fl.StringSliceVar(&f.appNets, "app-network", nil, "CIDRs of the application network (app-service is held to it)")
	fl.StringSliceVar(&f.payNets, "payment-network", nil, "CIDRs of the payment provider's network")
}

// merge takes the configuration file's serve settings for every flag not
// set on the command line.
func (f *serveFlags) merge(cmd *cobra.Command, c config.ServeConfig) {
	changed := cmd.Flags().Changed
	if !changed("listen") && c.Listen != "" {
		f.listen = c.Listen
	}
	if !changed("http-redirect") {
		f.redirect = c.HTTPRedirect
	}
	if !changed("hostname") {
		f.hosts = c.Hostnames
	}
	if !changed("tls-cert") {
		f.certFile = c.TLSCert
	}
	if !changed("tls-key") {
		f.keyFile = c.TLSKey
	}
	if !changed("acme-host") {
		f.acmeHosts = c.ACMEHosts
	}
	if !changed("acme-email") {
		f.acmeEmail = c.ACMEEmail
	}
	if !changed("app-network") {
		f.appNets = c.Networks[policy.NetworkApplication]
	}
	if !changed("payment-network") {
		f.payNets = c.Networks[policy.NetworkPayment]
	}
	f.limits = c.RateLimits
}

func (f *serveFlags) networks() (map[string][]netip.Prefix, error) {
	out := map[string][]netip.Prefix{}
	for name, cidrs := range map[string][]string{policy.NetworkApplication: f.appNets, policy.NetworkPayment: f.payNets} {
		for _, c := range cidrs {
			p, err := netip.ParsePrefix(c)
			if err != nil {
				return nil, fmt.Errorf("%s network %q: %w", name, c, err)
			}
			out[name] = append(out[name], p.Masked())
		}
	}
	return out, nil
}

// rateLimits are the built-in limits with the configured ones over them.
func (f *serveFlags) rateLimits() map[string]server.Limit {
	out := maps.Clone(defaultLimits)
	for role, l := range f.limits {
		out[role] = server.Limit{Rate: l.Rate, Burst: l.Burst}
	}
	return out
}

// defaultLimits are requests per second and bursts by role.
var defaultLimits = map[string]server.Limit{
	policy.RoleDeveloper:       {Rate: 20, Burst: 40},
	policy.RoleSecurity:        {Rate: 20, Burst: 40},
	policy.RoleDBA:             {Rate: 50, Burst: 100},
	policy.RoleAdmin:           {Rate: 10, Burst: 20},
	policy.RoleAppService:      {Rate: 2000, Burst: 4000},
	policy.RolePaymentProvider: {Rate: 100, Burst: 200},
}

func newServeCmd(g *globals) *cobra.Command {
	var f serveFlags
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the HTTPS API",
		Args:  cobra.NoArgs,
		RunE: g.withDeployment(func(cmd *cobra.Command, d *deploy.Deployment) error {
			f.merge(cmd, d.Config.Serve)
			out := cmd.OutOrStdout()
			return serve(cmd.Context(), d, f, out, func(addr string) {
				fmt.Fprintf(out, "serving on https://%s\n", addr)
			})
		}),
	}
	f.register(cmd, "127.0.0.1:8443")
	return cmd
}

// policyPoll is how often a node looks for a policy set applied on
// another node.
const policyPoll = 5 * time.Second

// sweepEvery is how often a node looks for the rows of erased customers
// that an interrupted erasure left behind.
const sweepEvery = 24 * time.Hour

// sweepErased removes, at start and then every interval, the customer rows
// whose data key was destroyed but whose row survived: a crash between the
// two steps of an erasure leaves such a row, unreadable, until this runs.
// Each sweep is recorded in trail.
func sweepErased(ctx context.Context, s *store.Store, trail audit.Appender, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	act := audit.Action{Name: audit.ActionSweepErased, Resource: audit.Resource{Type: "Collection", ID: "customers"},
		Principal: audit.System, Source: serveSource}
	for {
		var n int
		err := audit.Do(ctx, trail, act, func(ctx context.Context) error {
			var err error
			n, err = s.SweepErased(ctx)
			return err
		})
		if err != nil && ctx.Err() == nil {
			log.Warn("sweep erased customers", "err", err)
		} else if n > 0 {
			log.Info("removed rows of erased customers", "rows", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// serve runs the API on d until ctx ends. It prints the bootstrap admin key
// the one time it is created, to out and never to the log.
func serve(ctx context.Context, d *deploy.Deployment, f serveFlags, out io.Writer, ready func(string)) error {
	ring := logging.NewRing(1000)
	log := slog.New(logging.NewHandler(os.Stderr, ring, nil))
	nets, err := f.networks()
	if err != nil {
		return err
	}
	ca, err := tlsca.OpenCA(filepath.Join(d.Config.DataDir, "tls"))
	if err != nil {
		return err
	}
	if key, created, err := d.Identity.EnsureBootstrap(ctx); err != nil {
		return err
	} else if created {
		fmt.Fprintf(out, "Bootstrap admin API key (shown once, store it now):\n  %s\n", key.Reveal())
	}
	pv, err := versions.Open(ctx, d.DB)
	if err != nil {
		return err
	}
	trail, err := d.OpenAudit(audit.Options{})
	if errors.Is(err, audit.ErrLocked) {
		return &keys.HintedError{Err: err, Hint: "another securecart process serves this data directory"}
	}
	if err != nil {
		return err
	}
	stopArchive, err := archiveAudit(ctx, d, log.With("subsystem", "audit-archive"))
	if err != nil {
		trail.Close()
		return err
	}
	defer func() {
		trail.Close()
		stopArchive() // after the close, to ship the last checkpoint
	}()
	m := metrics.New()
	vault := payments.New(d.Store)
	m.Read(metrics.Sources{SealOperations: d.Keys.Operations})
	backups, err := startBackups(ctx, d, trail, m, log)
	if err != nil {
		return err
	}
	api := server.New(server.Deps{Store: d.Store, Keys: d.Keys, Backups: backups, Audit: trail, AuditReader: trail.Reader(), Policy: pv.Live(), Policies: pv, Identity: server.Directory{Dir: d.Identity, CA: ca,
		NoServiceKeys: d.Config.Serve.DisableServiceKeys},
		Directory: d.Identity, CA: ca, Logs: ring, Metrics: m, Payments: vault,
		Networks: nets, Limits: f.rateLimits(), Logger: log.With("subsystem", "api")})

	// The background workers record their actions in the trail: they
	// stop before it closes.
	var workers sync.WaitGroup
	defer workers.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	workers.Go(func() { d.Keys.Run(ctx, keys.Maintenance{Around: auditedMaintenance(trail)}) })
	workers.Go(func() { sweepErased(ctx, d.Store, trail, sweepEvery, log.With("subsystem", "store")) })
	workers.Go(func() { vault.RunSweeper(ctx, trail, payments.SweepEvery, log.With("subsystem", "payments")) })
	workers.Go(func() { backups.Run(ctx) })
	go pv.Poll(ctx, policyPoll, func(err error) { log.Warn("refresh policy set", "err", err) })
	reload := make(chan struct{}, 1)
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default:
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	defer api.Close() // before the trail closes: outcome records may be on their way
	return server.Serve(ctx, api, ca, server.Listener{Addr: f.listen, RedirectAddr: f.redirect, Hosts: f.hosts,
		CertFile: f.certFile, KeyFile: f.keyFile, ACMEHosts: f.acmeHosts, ACMEEmail: f.acmeEmail,
		ACMECacheDir: filepath.Join(d.Config.DataDir, "tls", "acme"), Metrics: m,
		Ready: ready, Reload: reload}, log)
}
