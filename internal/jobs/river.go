package jobs

// Everything that knows about River lives in this file.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
)

const (
	runKind  = "compute_job"
	runQueue = river.QueueDefault
	// runMaxAttempts is 1 until crash recovery exists: a second attempt of a
	// half-run job would find it Started with partial outputs.
	runMaxAttempts = 1
)

// runArgs is the queued River job: only our job id, the store has the rest.
type runArgs struct {
	JobID int64 `json:"job_id"`
}

func (runArgs) Kind() string { return runKind }

// InsertOpts applies to every insert of runArgs, whichever client does it.
func (runArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: runMaxAttempts, Queue: runQueue}
}

// insertQueue enqueues jobs without working them, so a web process can submit
// without running workers.
type insertQueue struct {
	client *river.Client[*sql.Tx]
}

func newInsertQueue(db *sql.DB) (*insertQueue, error) {
	client, err := river.NewClient(riversqlite.New(db), &river.Config{Logger: riverLogger(nil)})
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

func newWorkQueue(db *sql.DB, cfg RunnerConfig, execute func(context.Context, int64) error) (*workQueue, error) {
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &runWorker{execute: execute}); err != nil {
		return nil, fmt.Errorf("jobs: register worker: %w", err)
	}
	client, err := river.NewClient(riversqlite.New(db), &river.Config{
		Logger:            riverLogger(cfg.Logger),
		Queues:            map[string]river.QueueConfig{runQueue: {MaxWorkers: cfg.Workers}},
		Workers:           workers,
		FetchPollInterval: cfg.PollInterval,
		// River rejects a poll interval shorter than the cooldown.
		FetchCooldown: min(cfg.PollInterval, river.FetchCooldownDefault),
		// Climate jobs run for minutes to hours; only shutdown cancels them.
		// (With no timeout River's rescuer also leaves running jobs alone.)
		JobTimeout:  -1,
		MaxAttempts: runMaxAttempts,
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
}

// Work records every outcome in our store itself. A job reached only by
// shutdown is snoozed: it stays available, without using up its one attempt,
// for the next runner. Any other error means recording failed, and JobCancel
// keeps River from retrying regardless of attempts.
func (w *runWorker) Work(ctx context.Context, job *river.Job[runArgs]) error {
	switch err := w.execute(ctx, job.Args.JobID); {
	case err == nil:
		return nil
	case errors.Is(err, errRequeue):
		return river.JobSnooze(0)
	default:
		return river.JobCancel(err)
	}
}

// migrateRiver creates or updates River's tables.
func migrateRiver(ctx context.Context, db *sql.DB) error {
	m, err := rivermigrate.New(riversqlite.New(db), &rivermigrate.Config{Logger: riverLogger(nil)})
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
