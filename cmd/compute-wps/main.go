// Command compute-wps is the ComputeWPS daemon.
//
//	compute-wps serve            HTTP server and in-process workers (the default)
//	compute-wps worker           workers only, for scale-out
//	compute-wps migrate          create or update the job store schema
//	compute-wps sample DIR       write the sample dataset into DIR unless it is there
//	compute-wps version          print the version
//
// Every setting comes from the environment; see the README.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/computewps/computewps/internal/config"
	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/metrics"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/processes"
	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/server"
	"github.com/computewps/computewps/internal/worker"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

const usage = `usage: compute-wps [serve | worker | migrate | sample DIR | version]

  serve     run the WPS HTTP server with in-process workers (default)
  worker    run workers only, taking jobs from the shared job store
  migrate   create or update the job store schema, then exit
  sample    write the sample dataset into DIR unless it is already there
  version   print the version

Configuration is read from environment variables (see README.md).
`

func main() {
	cmd := "serve"
	if len(os.Args) > 1 {
		cmd = os.Args[1]
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch cmd {
	case "serve":
		err = serve(ctx)
	case "worker":
		err = runWorker(ctx)
	case "migrate":
		err = migrate(ctx)
	case "sample":
		if len(os.Args) != 3 {
			fmt.Fprint(os.Stderr, usage)
			os.Exit(2)
		}
		var wrote bool
		if wrote, err = sample.Ensure(os.Args[2]); err == nil && wrote {
			fmt.Printf("wrote the sample dataset into %s\n", os.Args[2])
		}
	case "version", "-version", "--version":
		fmt.Println("compute-wps", version)
	case "help", "-h", "-help", "--help":
		fmt.Print(usage)
	default:
		fmt.Fprintf(os.Stderr, "compute-wps: unknown command %q\n\n%s", cmd, usage)
		os.Exit(2)
	}
	if readers != nil {
		_ = readers.Close()
	}
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintf(os.Stderr, "compute-wps: %v\n", err)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "compute-wps: %v\n", err)
		os.Exit(1)
	}
}

func logger(cfg *config.Config) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, opts))
}

// open loads the configuration and opens the job store.
func open(ctx context.Context) (*config.Config, *slog.Logger, *jobs.Store, error) {
	cfg, err := config.Load(nil)
	if err != nil {
		return nil, nil, nil, err
	}
	log := logger(cfg)
	if err := os.MkdirAll(cfg.DataPath, 0o750); err != nil {
		return nil, nil, nil, fmt.Errorf("DATA_PATH: %w", err)
	}
	store, err := jobs.Open(ctx, cfg.DatabaseURL, cfg.DataPath)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("opening the job store: %w", err)
	}
	store.SetLimits(jobs.Limits{MaxRunning: cfg.UserMaxRunning, MaxQueued: cfg.UserMaxQueued,
		MaxStorage: cfg.UserMaxStorage, Retention: cfg.JobRetention})
	return cfg, log, store, nil
}

func migrate(ctx context.Context) error {
	_, log, store, err := open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(ctx); err != nil {
		return err
	}
	log.Info("job store schema is up to date")
	return nil
}

func newRunner(cfg *config.Config, log *slog.Logger, store *jobs.Store, cat *processes.Catalogue, access *processes.Access, m *metrics.Metrics) (*jobs.Runner, error) {
	m.Workers.Set(float64(cfg.Workers))
	useReaders(cfg, log)
	w := &worker.Worker{Metrics: m,
		Store: store, Catalogue: cat, Access: access, DataPath: cfg.DataPath, SlabBytes: cfg.SlabBytes, MaxReadBytes: cfg.MaxReadBytes,
		Server: cfg.BaseURL + "/wps", Version: version, Log: log,
	}
	// Expired jobs' files go with their records (WPS_JOB_RETENTION).
	onExpire := func(_ context.Context, list []jobs.Expired) {
		for _, e := range list {
			if err := jobs.RemoveFiles(cfg.DataPath, e.Dir, e.Outputs); err != nil {
				log.Warn("removing the files of an expired job", "job_id", e.JobID, "err", err)
			}
		}
	}
	return store.NewRunner(jobs.RunnerConfig{Workers: cfg.Workers, Logger: log, Lease: cfg.JobLease,
		Attempts: cfg.JobAttempts, OnExpire: onExpire}, w.Run)
}

// readers inflate deflated inputs for the jobs of this process, and exit
// with it. They start now, while no output file is open, and a deployment
// that cannot run them reads in its own process.
var readers *netcdf.ReaderPool

func useReaders(cfg *config.Config, log *slog.Logger) {
	if cfg.ReadProcs < 2 || readers != nil {
		return
	}
	p, err := netcdf.NewReaderPool(cfg.ReadProcs)
	if err == nil {
		if err = p.Start(); err != nil {
			p.Close()
		}
	}
	if err != nil {
		log.Warn("reading deflated inputs in this process only", "err", err)
		return
	}
	readers = p
	ops.UseReaderPool(p)
}

func serve(ctx context.Context) error {
	cfg, log, store, err := open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	// The embedded store is this process's own, so keep its schema current;
	// with a shared database operators run `compute-wps migrate`.
	if err := store.Migrate(ctx); err != nil {
		return fmt.Errorf("migrating the job store: %w", err)
	}
	cat := processes.Default()
	access := server.NewAccess(cfg, store)
	ap, err := server.NewAuth(cfg, store, nil)
	if err != nil {
		return fmt.Errorf("authentication: %w", err)
	}
	m := metrics.New()
	m.WatchJobStates(store.StateCounts)
	if ap.Introspector != nil {
		ap.Introspector.OnResult = func(cached bool) {
			if cached {
				m.Introspection.WithLabelValues("hit").Inc()
			} else {
				m.Introspection.WithLabelValues("miss").Inc()
			}
		}
	}
	srv := server.New(server.Options{Config: cfg, Store: store, Catalogue: cat, Access: access,
		Authenticator: ap.Authenticator, Login: ap.Login, Registrar: ap.Registrar, Logger: log, Version: version, Metrics: m})

	var runner *jobs.Runner
	if cfg.Workers > 0 {
		if runner, err = newRunner(cfg, log, store, cat, access, m); err != nil {
			return err
		}
		if err := runner.Start(ctx); err != nil {
			return err
		}
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("serving", "addr", ln.Addr().String(), "base_url", cfg.BaseURL, "version", version,
		"auth", cfg.AuthEnabled, "workers", cfg.Workers, "data_path", cfg.DataPath, "data_roots", cfg.DataRoots, "data_hosts", cfg.DataHosts)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_ = hs.Shutdown(shutdown)
	if runner != nil {
		_ = runner.Stop(shutdown)
	}
	return nil
}

func runWorker(ctx context.Context) error {
	cfg, log, store, err := open(ctx)
	if err != nil {
		return err
	}
	defer store.Close()
	if cfg.Workers < 1 {
		return errors.New("WPS_WORKERS must be at least 1 for a worker process")
	}
	cat := processes.Default()
	access := server.NewAccess(cfg, store)
	m := metrics.New()
	runner, err := newRunner(cfg, log, store, cat, access, m)
	if err != nil {
		return err
	}
	if err := runner.Start(ctx); err != nil {
		return err
	}
	// A worker has no WPS endpoint; its job metrics are scraped here.
	if cfg.MetricsAddr != "" {
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return fmt.Errorf("WPS_METRICS_ADDR: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", m.Handler())
		ms := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go ms.Serve(ln)
		defer ms.Close()
		log.Info("serving metrics", "addr", ln.Addr().String())
	}
	log.Info("worker running", "workers", cfg.Workers, "version", version)
	<-ctx.Done()
	shutdown, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return runner.Stop(shutdown)
}
