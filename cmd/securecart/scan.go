package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/securecart/securecart/internal/audit"
	"github.com/securecart/securecart/internal/backup"
	"github.com/securecart/securecart/internal/deploy"
	"github.com/securecart/securecart/internal/objstore"
	"github.com/securecart/securecart/internal/scan"
	"github.com/securecart/securecart/internal/scan/objscan"
	"github.com/securecart/securecart/internal/scan/report"
	"github.com/securecart/securecart/internal/scan/storescan"
)

// progressFrom is the size of scan from which a progress bar shows.
const progressFrom = 16 << 20

type scanFlags struct {
	format, failOn, rules string
	detectors             []string
	buckets               []string
	minConfidence         float64
	store                 bool
}

func newScanCmd(g *globals) *cobra.Command {
	var f scanFlags
	cmd := &cobra.Command{
		Use:   "scan [PATH...]",
		Short: "Find card numbers, PII and secrets in files, folders, buckets or the store's free text",
		Long: "Scan files and folders (gzip and zstd are read transparently, binary files skipped),\n" +
			"with --bucket BUCKET[/PREFIX] the objects of a bucket of the object storage (one of\n" +
			"SecureCart's own, whose sealed objects are opened in memory, or any other, such as\n" +
			"the shop's exports), and with --store the store's product texts and order notes.\n" +
			"Exits with status 1 when a finding is at or above --fail-on, and 2 when the scan\n" +
			"itself fails, so that a pipeline can tell the two apart.",
		RunE: func(cmd *cobra.Command, args []string) error {
			return scanFailed(f.run(cmd, g, args))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.format, "format", "table", "report format: "+strings.Join(report.Formats, ", "))
	fl.StringVar(&f.failOn, "fail-on", scan.SeverityHigh, "exit with status 1 on a finding at or above: high, medium, low, none")
	fl.StringVar(&f.rules, "rules", "", "scan configuration file: allow-lists and custom detectors (JSON)")
	fl.StringSliceVar(&f.detectors, "detectors", nil, "detectors to run (default all): "+strings.Join(scan.Detectors(), ", "))
	fl.Float64Var(&f.minConfidence, "min-confidence", scan.DefaultMinConfidence, "drop findings less sure than this (0 to 1)")
	fl.BoolVar(&f.store, "store", false, "scan the store's free-text fields (opens the deployment)")
	fl.StringSliceVar(&f.buckets, "bucket", nil, "scan the objects of BUCKET[/PREFIX] of the configured object storage: "+
		"SecureCart's own ("+strings.Join(objstore.Buckets, ", ")+"; sealed objects opened in memory) or any other")
	cmd.AddCommand(newScanHMACCmd())
	return cmd
}

// exitError makes main exit with its code.
type exitError struct {
	err  error
	code int
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the status main exits with.
func (e *exitError) ExitCode() int { return e.code }

// scanFailed gives an error of the scan itself, as opposed to findings at
// or above --fail-on, exit status 2.
func scanFailed(err error) error {
	var found *report.FoundError
	if err == nil || errors.As(err, &found) {
		return err
	}
	return &exitError{err: err, code: 2}
}

// run scans what the flags and args name and writes the report.
func (f *scanFlags) run(cmd *cobra.Command, g *globals, args []string) error {
	if len(args) == 0 && !f.store && len(f.buckets) == 0 {
		return fmt.Errorf("scan: name a PATH, --bucket or --store")
	}
	sc, err := f.scanner(cmd)
	if err != nil {
		return err
	}
	w, err := report.New(f.format, cmd.OutOrStdout(), report.Rules(sc.Custom()), versionString())
	if err != nil {
		return err
	}
	if len(args) > 0 {
		if err := scanPaths(cmd, sc, w, args); err != nil {
			return err
		}
	}
	if len(f.buckets) > 0 {
		if err := scanBuckets(cmd, g, sc, w, f.buckets); err != nil {
			return err
		}
	}
	if f.store {
		d, err := g.open(cmd.Context())
		if err != nil {
			return err
		}
		defer d.Close()
		if err := scanStore(cmd, d, sc, w); err != nil {
			return err
		}
	}
	if err := w.Close(); err != nil {
		return err
	}
	return w.Summary().Check(f.failOn)
}

// scanner builds the scanner the flags and the rules file describe; flags
// set on the command line win over the file.
func (f *scanFlags) scanner(cmd *cobra.Command) (*scan.Scanner, error) {
	opts := scan.Options{MinConfidence: f.minConfidence}
	if f.rules != "" {
		var err error
		if opts, err = scan.LoadConfig(f.rules); err != nil {
			return nil, err
		}
		if cmd.Flags().Changed("min-confidence") {
			opts.MinConfidence = f.minConfidence
		}
	}
	if len(f.detectors) > 0 {
		set, err := scan.ParseSet(f.detectors)
		if err != nil {
			return nil, err
		}
		opts.Detectors = set
	}
	return scan.NewScanner(opts)
}

func scanPaths(cmd *cobra.Command, sc *scan.Scanner, w report.Writer, paths []string) error {
	files, err := scan.ListFiles(paths)
	if err != nil {
		return err
	}
	var total int64
	for _, f := range files {
		total += f.Size
	}
	var progress func(int64)
	if bar := newScanBar(cmd.ErrOrStderr(), total); bar != nil {
		progress = func(n int64) { bar.Add64(n) }
		defer func() {
			bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
		}()
	}
	return report.Files(cmd.Context(), sc, files, w, progress)
}

// newScanBar returns a progress bar on stderr for a scan of total bytes,
// or nil when the scan is short or stderr is not a terminal.
func newScanBar(stderr io.Writer, total int64) *progressbar.ProgressBar {
	f, ok := stderr.(*os.File)
	if total < progressFrom || !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions64(total, progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("scan"), progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(200*time.Millisecond))
}

func scanStore(cmd *cobra.Command, d *deploy.Deployment, sc *scan.Scanner, w report.Writer) error {
	// The store does not say ahead how many texts it holds: on a terminal
	// the bar counts the texts scanned.
	var bar *progressbar.ProgressBar
	if f, ok := cmd.ErrOrStderr().(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		bar = progressbar.NewOptions64(-1, progressbar.OptionSetWriter(f),
			progressbar.OptionSetDescription("scan store"), progressbar.OptionShowCount(),
			progressbar.OptionThrottle(200*time.Millisecond))
		defer bar.Finish()
	}
	var werr error
	err := storescan.Scan(cmd.Context(), d.Store, sc,
		func(f scan.Finding) {
			if werr == nil {
				werr = w.Finding(f)
			}
		},
		func(o scan.Object) {
			if bar != nil {
				bar.Add(1)
			}
			if werr == nil {
				werr = w.Object(o)
			}
		})
	if err != nil {
		return err
	}
	return werr
}

func scanBuckets(cmd *cobra.Command, g *globals, sc *scan.Scanner, w report.Writer, targets []string) error {
	ctx := cmd.Context()
	obj, err := deploy.OpenObjects(ctx, g.cfg)
	if err != nil {
		return err
	}
	st, ok := obj.(objscan.Storage)
	if !ok {
		return fmt.Errorf("scan bucket: the object storage cannot list other buckets")
	}
	var objects []objstore.Info
	for _, t := range targets {
		target, err := objscan.ParseTarget(t)
		if err != nil {
			return err
		}
		infos, err := objscan.List(ctx, st, target)
		if err != nil {
			return err
		}
		objects = append(objects, infos...)
	}

	var werr error
	emit := func(f scan.Finding) {
		if werr == nil {
			werr = w.Finding(f)
		}
	}
	done := func(o scan.Object) {
		if werr == nil {
			werr = w.Object(o)
		}
	}
	var progress func(int64)
	if bar := newScanBar(cmd.ErrOrStderr(), objscan.Size(objects)); bar != nil {
		progress = func(n int64) { bar.Add64(n) }
		defer func() {
			bar.Finish()
			fmt.Fprintln(cmd.ErrOrStderr())
		}()
	}
	open, closeOpener := sealedOpener(g)
	defer closeOpener()
	if err := objscan.Scan(ctx, st, objects, sc, open, progress, emit, done); err != nil {
		return err
	}
	return werr
}

// sealedOpener opens the objects SecureCart sealed, in memory, with the
// deployment's keys: the backups bucket's segments, snapshot parts and
// manifests, and the audit trail's shipped and archived segments, whose
// records are scanned as OCSF JSON lines. The deployment is opened at the
// first sealed object, so a scan of plain objects needs none. Close it
// with the returned func.
func sealedOpener(g *globals) (objscan.Opener, func()) {
	var (
		d    *deploy.Deployment
		derr error
		once sync.Once
	)
	open := func(ctx context.Context, bucket, key string, sealed []byte) ([]byte, error) {
		if bucket != objstore.Backups && bucket != objstore.Audit && bucket != objstore.Archive {
			return nil, objscan.ErrNoOpener
		}
		once.Do(func() { d, derr = g.open(ctx) })
		if derr != nil {
			return nil, fmt.Errorf("open the deployment's keys: %w", derr)
		}
		if bucket == objstore.Backups {
			return backup.OpenObject(ctx, d.Keys, key, sealed)
		}
		return audit.OpenArchived(ctx, d.Keys, bucket, key, sealed)
	}
	return open, func() {
		if d != nil {
			d.Close()
		}
	}
}

func newScanHMACCmd() *cobra.Command {
	var keyFile, detector string
	cmd := &cobra.Command{
		Use:   "hmac",
		Short: "Print the allow-list HMAC of a value read from standard input",
		Long: "Reads one value from standard input and prints HMAC-SHA256(key, canonical value) in hex,\n" +
			"the form the \"values\" allow-list of a scan configuration file holds.",
		Args:              cobra.NoArgs,
		PersistentPreRunE: func(*cobra.Command, []string) error { return nil },
		RunE: func(cmd *cobra.Command, _ []string) error {
			key, err := scan.ReadKeyFile(keyFile)
			if err != nil {
				return err
			}
			line, err := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
			if err != nil && err != io.EOF {
				return fmt.Errorf("read value: %w", err)
			}
			v := strings.TrimRight(line, "\r\n")
			if v == "" {
				return fmt.Errorf("read value: standard input is empty")
			}
			fmt.Fprintln(cmd.OutOrStdout(), scan.ValueMAC(key, detector, v))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyFile, "key-file", "", "allow-list key file (64 or more hex digits)")
	cmd.Flags().StringVar(&detector, "detector", scan.DetectorCard, "detector of the value, which sets its canonical form")
	cmd.MarkFlagRequired("key-file")
	return cmd
}
