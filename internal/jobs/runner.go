package jobs

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// RunFunc executes one job. The job is already Started when it is called, and
// job.Attempt says which attempt this is; a later attempt must not trust
// files an earlier one left. It reports Progress and ends with Succeed, or
// returns an error. ctx is cancelled when the runner shuts down, when the
// owner dismisses the job, and when the attempt loses its lease; Progress,
// Succeed and Fail called with ctx (or a context derived from it) record
// nothing once the attempt has lost the job.
type RunFunc func(ctx context.Context, job Job) error

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	Workers      int           // jobs run at once by this process; default 1
	PollInterval time.Duration // how often idle workers look for new jobs; default 200ms
	Logger       *slog.Logger  // default: discard

	// Lease is how long a job stays with a worker that stopped renewing it
	// (killed, hung, cut off from the database) before another worker may
	// run it again; default 1m. Running workers renew every quarter lease.
	Lease time.Duration
	// Attempts is how many times a job is started before it fails because
	// its workers kept dying; default 3. Handing a job back at shutdown does
	// not count.
	Attempts int
	// CheckInterval is how often a running job is checked for dismissal by
	// its owner, which stops it; default 1s.
	CheckInterval time.Duration
	// Name is this process in Job.Worker; default "host:pid".
	Name string

	// OnExpire, if set, makes this Runner remove jobs older than the
	// store's Limits.Retention every ExpireInterval (and once at Start), and
	// then receive them to delete their files (RemoveFiles). Nil: this Runner
	// expires nothing.
	OnExpire       func(ctx context.Context, expired []Expired)
	ExpireInterval time.Duration // default 10m

	snooze time.Duration // how soon a ticket blocked by user limits tries again
}

// Messages recorded for failures the RunFunc did not describe itself. They
// are shown to users, so they name no internals.
const (
	msgPanic     = "internal error"
	msgNoResult  = "internal error: job finished without a result"
	msgNoMessage = "job failed"
)

const (
	defaultPollInterval   = 200 * time.Millisecond
	defaultLease          = time.Minute
	defaultAttempts       = 3
	defaultCheckInterval  = time.Second
	defaultExpireInterval = 10 * time.Minute
	// minLease keeps renewals (a quarter lease) well apart from the checks.
	minLease = 400 * time.Millisecond
	// recordTimeout bounds the final store write after run returns, which
	// uses a context detached from the (possibly cancelled) job context.
	recordTimeout = 30 * time.Second
	// cancelGrace is how long Stop waits for cancelled jobs to return.
	cancelGrace = 30 * time.Second
)

// Runner executes queued jobs; see NewRunner.
type Runner struct {
	store    *Store
	run      RunFunc
	log      *slog.Logger
	cfg      RunnerConfig
	queue    *workQueue
	keeper   *keeper
	running  atomic.Int64
	stopping atomic.Bool

	bgCancel context.CancelFunc // stops the keeper, reaper and expiry loops
	bgDone   sync.WaitGroup
}

// NewRunner returns a Runner that executes queued jobs with run, one attempt
// at a time per job across all processes sharing the store (see lease.go).
// If run returns an error the job is marked Failed with err.Error() and not
// retried. If run returns nil the job must already be Succeeded, else it is
// marked Failed. A panic in run is recovered and recorded as "internal error"
// (the panic value goes to the logger only). A job whose worker died runs
// again, up to cfg.Attempts times; a job running when Stop gives up waiting
// goes back to the queue for another worker.
func (s *Store) NewRunner(cfg RunnerConfig, run RunFunc) (*Runner, error) {
	if run == nil {
		return nil, errors.New("jobs: NewRunner: nil RunFunc")
	}
	if cfg.Workers < 0 {
		return nil, fmt.Errorf("jobs: NewRunner: %d workers", cfg.Workers)
	}
	if cfg.Attempts < 0 || cfg.Lease < 0 || cfg.CheckInterval < 0 || cfg.ExpireInterval < 0 {
		return nil, errors.New("jobs: NewRunner: negative attempts or interval")
	}
	if cfg.Lease != 0 && cfg.Lease < minLease {
		return nil, fmt.Errorf("jobs: NewRunner: lease %v is shorter than %v", cfg.Lease, minLease)
	}
	if cfg.Workers == 0 {
		cfg.Workers = 1
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = defaultPollInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Lease = cmp.Or(cfg.Lease, defaultLease)
	cfg.Attempts = cmp.Or(cfg.Attempts, defaultAttempts)
	cfg.CheckInterval = min(cmp.Or(cfg.CheckInterval, defaultCheckInterval), cfg.Lease/4)
	cfg.ExpireInterval = cmp.Or(cfg.ExpireInterval, defaultExpireInterval)
	cfg.Name = cmp.Or(cfg.Name, defaultWorkerName())
	cfg.snooze = min(time.Second, 5*cfg.PollInterval)
	r := &Runner{store: s, run: run, log: cfg.Logger, cfg: cfg}
	r.keeper = newKeeper(s, cfg.Lease, cfg.CheckInterval, cfg.Logger)
	q, err := newWorkQueue(s.db, s.dialect, cfg, r.execute)
	if err != nil {
		return nil, err
	}
	r.queue = q
	return r, nil
}

// Running is how many jobs this Runner is running now.
func (r *Runner) Running() int { return int(r.running.Load()) }

// Start starts fetching and running jobs in the background, and the lease
// keeper, the reaper of dead workers' jobs and, with OnExpire, expiry. ctx
// bounds the start-up only: cancelling it later does not stop the runner, so
// that a signal context cannot skip the graceful Stop.
func (r *Runner) Start(ctx context.Context) error {
	r.stopping.Store(false)
	if err := ctx.Err(); err != nil {
		return err
	}
	bg, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.bgCancel = cancel
	r.bgDone.Go(func() { r.keeper.run(bg) })
	r.bgDone.Go(func() { r.reapLoop(bg) })
	if r.cfg.OnExpire != nil {
		r.bgDone.Go(func() { r.expireLoop(bg) })
	}
	if err := r.queue.start(context.WithoutCancel(ctx)); err != nil {
		r.stopBackground()
		return err
	}
	r.store.runners.add(r)
	return nil
}

func (r *Runner) stopBackground() {
	if r.bgCancel != nil {
		r.bgCancel()
		r.bgDone.Wait()
		r.bgCancel = nil
	}
}

// Stop stops fetching jobs and waits for running ones until ctx ends; then it
// cancels them, hands each back to the queue for another worker, and waits
// for them to return.
func (r *Runner) Stop(ctx context.Context) error {
	r.stopping.Store(true)
	defer r.store.runners.remove(r)
	defer r.stopBackground() // after the jobs: their leases are renewed until they return
	err := r.queue.stop(ctx)
	if err == nil || ctx.Err() == nil {
		return err
	}
	r.log.Warn("cancelling running jobs", "running", r.running.Load())
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cancelGrace)
	defer cancel()
	if err := r.queue.stopAndCancel(cctx); err != nil {
		return fmt.Errorf("jobs: cancelled jobs did not return: %w", err)
	}
	return nil
}

// reapLoop recovers the jobs of dead workers. Every Runner reaps: any
// survivor notices a dead peer's jobs about a lease after it died.
func (r *Runner) reapLoop(ctx context.Context) {
	every := min(r.cfg.Lease/2, 10*time.Second)
	ticker := time.NewTicker(every)
	defer ticker.Stop()
	for {
		requeued, failed, err := r.store.reap(ctx, r.cfg.Attempts)
		switch {
		case err != nil && ctx.Err() == nil:
			r.log.Warn("recovering jobs of stopped workers", "error", err)
		case requeued > 0 || failed > 0:
			r.log.Warn("recovered jobs of stopped workers", "requeued", requeued, "failed", failed)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// expireLoop removes expired jobs and hands them to OnExpire.
func (r *Runner) expireLoop(ctx context.Context) {
	ticker := time.NewTicker(r.cfg.ExpireInterval)
	defer ticker.Stop()
	for {
		if retention := r.store.Limits().Retention; retention > 0 {
			list, err := r.store.Expire(ctx, now().Add(-retention))
			if err != nil && ctx.Err() == nil {
				r.log.Warn("expiring old jobs", "error", err)
			}
			if len(list) > 0 {
				r.log.Info("expired old jobs", "jobs", len(list))
				r.cfg.OnExpire(ctx, list)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// errRequeue asks the queue to keep a ticket for the next start: shutdown
// began before a job was claimed, so nothing has happened yet.
var errRequeue = errors.New("jobs: shutting down before the job ran")

// execute uses one ticket: it claims the fairest waiting job, runs it and
// records its outcome. It returns errRequeue or errAtLimit for the queue to
// keep the ticket, or another error when the store could not be reached.
func (r *Runner) execute(ctx context.Context, ticketJobID int64) error {
	if ctx.Err() != nil || r.stopping.Load() {
		return errRequeue
	}
	claimed := now()
	job, token, err := r.store.claim(ctx, r.cfg.Name, r.cfg.Lease)
	switch {
	case errors.Is(err, errNothingWaiting):
		return nil
	case errors.Is(err, errAtLimit):
		return errAtLimit
	case err != nil && ctx.Err() != nil:
		return errRequeue // the claim's transaction was rolled back
	case err != nil:
		return err
	}
	log := r.log.With("job_id", job.ID, "attempt", job.Attempt)

	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jctx = withLease(jctx, job.ID, token)
	r.keeper.add(token, job.ID, claimed, cancel)
	defer r.keeper.remove(token)

	r.running.Add(1)
	panicked, runErr := r.call(jctx, job)
	r.running.Add(-1)

	// jctx may be cancelled by now; the outcome must still be written, by
	// this attempt only (the lease stays in the context's values).
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(jctx), recordTimeout)
	defer rcancel()
	var msg string
	switch cause := context.Cause(jctx); {
	case jctx.Err() != nil && ctx.Err() == nil:
		// Dismissed, deleted, finished, or the lease lost: not ours to record.
		log.Info("job attempt stopped", "cause", cause)
		return nil
	case panicked:
		msg = msgPanic
	case ctx.Err() != nil && r.stopping.Load():
		st, err := r.store.state(rctx, r.store.db, job.ID)
		if err != nil || st != Started {
			return nil // finished after all, or gone
		}
		log.Info("handing the job back for another worker")
		return r.store.handBack(rctx, job.ID, token)
	case runErr != nil:
		msg = runErr.Error()
		if msg == "" {
			msg = msgNoMessage
		}
	default:
		st, err := r.store.state(rctx, r.store.db, job.ID)
		if errors.Is(err, ErrNotFound) || err == nil && st == Succeeded {
			return nil
		}
		if err != nil {
			return err
		}
		msg = msgNoResult
	}
	log.Info("job failed", "message", msg, "error", runErr)
	err = r.store.Fail(rctx, job.ID, msg)
	switch {
	case errors.Is(err, ErrNotFound), errors.Is(err, ErrLeaseLost):
		return nil // deleted, dismissed or taken over while it ran
	case errors.Is(err, ErrDone):
		log.Warn("run failed after the job succeeded; keeping the success", "error", runErr)
		return nil
	}
	return err
}

// call runs the RunFunc, turning a panic into panicked so that one bad job
// cannot take the process down.
func (r *Runner) call(ctx context.Context, job Job) (panicked bool, err error) {
	defer func() {
		if v := recover(); v != nil {
			r.log.Error("job panicked", "job_id", job.ID, "panic", v, "stack", string(debug.Stack()))
			panicked, err = true, nil
		}
	}()
	return false, r.run(ctx, job)
}
