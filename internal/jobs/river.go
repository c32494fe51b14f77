package jobs

// Everything that knows about River lives in this file.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

// River delivers tickets, not jobs. Every waiting job has at least one
// queued River job (a ticket); a worker that gets a ticket claims the
// fairest waiting job in our tables (claim in lease.go), which need not be
// the job whose submission queued the ticket. Our jobs table, not River,
// says which job runs where, under a lease; River gives durable, transactional
// delivery, wake-ups and each process's pool of workers.
//
// Tickets are queued by Submit, by the reaper when it puts back a job whose
// worker died, and by a worker that hands its job back at shutdown. A ticket
// is used up when it ran a job or found none waiting, so there are never
// fewer tickets than waiting jobs; spare tickets find nothing and complete.
//
// River's rescuer never touches our tickets: with JobTimeout -1 it leaves
// running River jobs alone whatever their age (job_rescuer.go: a negative
// timeout means "ignore"). A ticket whose process was killed stays
// "running" in river_job; it only records that a delivery happened. Leases
// in our tables detect the dead worker instead, because only they are renewed
// while a job runs: River's rescuer goes by the time an attempt began, and
// would re-run a healthy job that runs longer than its threshold.
const (
	runKind  = "compute_job"
	runQueue = river.QueueDefault
	// ticketMaxAttempts lets River retry a ticket whose worker could not
	// reach the job store (with River's backoff, for hours). Job outcomes are
	// never retried by River: a job's attempts are counted in our tables.
	ticketMaxAttempts = 25
)

// runArgs is a ticket: JobID is the job whose submission (or recovery)
// queued it, kept for logs.
type runArgs struct {
	JobID int64 `json:"job_id"`
}

func (runArgs) Kind() string { return runKind }

// InsertOpts applies to every insert of runArgs, whichever client does it.
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: ticketMaxAttempts, Queue: runQueue}
}

// riverDriver is River's driver for the store's database. Both work on
// database/sql, so River's transactions are ours (*sql.Tx) on both. The
// database/sql driver for PostgreSQL polls rather than LISTENs, like SQLite.
func riverDriver(db *sql.DB, d dialect) riverdriver.Driver[*sql.Tx] {
	if d == dialectPostgres {
		return riverdatabasesql.New(db)
	}
	return riversqlite.New(db)
}

// insertQueue enqueues jobs without working them, so a web process can submit
// without running workers.
type insertQueue struct {
	client *river.Client[*sql.Tx]
}

func newInsertQueue(db *sql.DB, d dialect) (*insertQueue, error) {
	client, err := river.NewClient(riverDriver(db, d), &river.Config{Logger: riverLogger(nil)})
	if err != nil {
		return nil, fmt.Errorf("jobs: queue client: %w", err)
	}
	return &insertQueue{client: client}, nil
}

// enqueueTx queues the job in the caller's transaction: River's rows commit
// or roll back with ours.
func (q *insertQueue) enqueueTx(ctx context.Context, tx *sql.Tx, jobID int64) error {
	if _, err := q.client.InsertTx(ctx, tx, runArgs{JobID: jobID}, nil); err != nil {
		return fmt.Errorf("jobs: enqueue job %d: %w", jobID, err)
	}
	return nil
}

// workQueue is a River client that fetches and works jobs.
type workQueue struct {
	client *river.Client[*sql.Tx]
}

func newWorkQueue(db *sql.DB, d dialect, cfg RunnerConfig, execute func(context.Context, int64) error) (*workQueue, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runWorker{execute: execute, snooze: cfg.snooze}); err != nil {
		return nil, fmt.Errorf("jobs: register worker: %w", err)
	}
	client, err := river.NewClient(riverDriver(db, d), &river.Config{
		Logger:            riverLogger(cfg.Logger),
		Queues:            map[string]river.QueueConfig{runQueue: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		// River rejects a poll interval shorter than the cooldown.
		FetchCooldown: min(cfg.PollInterval, river.FetchCooldownDefault),
		// Climate jobs run for minutes to hours; only shutdown, dismissal
		// and a lost lease cancel them. With no timeout River's rescuer also
		// leaves running tickets alone (see above).
		JobTimeout:  -1,
		MaxAttempts: ticketMaxAttempts,
	})
	if err != nil {
		return nil, fmt.Errorf("jobs: worker client: %w", err)
	}
	return &workQueue{client: client}, nil
}

func (q *workQueue) start(ctx context.Context) error { return q.client.Start(ctx) }

func (q *workQueue) stop(ctx context.Context) error { return q.client.Stop(ctx) }

func (q *workQueue) stopAndCancel(ctx context.Context) error { return q.client.StopAndCancel(ctx) }

type runWorker struct {
	river.WorkerDefaults[runArgs]
	execute func(context.Context, int64) error
	snooze  time.Duration
}

// Work claims and runs a job; our store records every outcome itself. A
// ticket reached only by shutdown is snoozed: it stays available, without
// using up an attempt, for the next runner. So is one that found waiting
// jobs whose users all run as many jobs as they may: it tries again shortly.
// Any other error means the store could not be reached; River retries the
// ticket later.
func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	switch err := w.execute(ctx, job.Args.JobID); {
	case err == nil:
		return nil
	case errors.Is(err, errRequeue):
		return river.JobSnooze(0)
	case errors.Is(err, errAtLimit):
		return river.JobSnooze(w.snooze)
	default:
		return err
	}
}

// migrateRiver creates or updates River's tables.
func migrateRiver(ctx context.Context, db *sql.DB, d dialect) error {
	m, err := rivermigrate.New(riverDriver(db, d), &rivermigrate.Config{Logger: riverLogger(nil)})
	if err != nil {
		return fmt.Errorf("jobs: river migrator: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("jobs: river migrate: %w", err)
	}
	return nil
}

// riverLogger passes River's warnings and errors to l, tagged, and drops its
// Info chatter ("River client started", ...), which would flood an
// Info-level service log. A nil l discards everything.
func riverLogger(l *slog.Logger) *slog.Logger {
	if l == nil {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(minLevelHandler{h: l.Handler(), min: slog.LevelWarn}).With("component", "river")
}

type minLevelHandler struct {
	h   slog.Handler
	min slog.Level
}

func (m minLevelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= m.min && m.h.Enabled(ctx, l)
}

func (m minLevelHandler) Handle(ctx context.Context, r slog.Record) error { return m.h.Handle(ctx, r) }

func (m minLevelHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevelHandler{h: m.h.WithAttrs(attrs), min: m.min}
}

func (m minLevelHandler) WithGroup(name string) slog.Handler {
	return minLevelHandler{h: m.h.WithGroup(name), min: m.min}
}
