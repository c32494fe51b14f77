// Package worker runs a queued job: it rebuilds the workflow from the
// stored request, runs it with the process catalogue, and records progress,
// outputs and the outcome in the job store.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/metrics"
	"github.com/computewps/computewps/internal/processes"
	"github.com/computewps/computewps/internal/workflow"
)

// Worker holds what every job run needs.
type Worker struct {
	Store     *jobs.Store
	Catalogue *processes.Catalogue
	Access    *processes.Access
	DataPath  string
	SlabBytes int64
	// MaxReadBytes is the most a job may read (0: no limit).
	MaxReadBytes int64
	Server       string // WPS endpoint URL, recorded as provenance
	Version      string
	Log          *slog.Logger
	Metrics      *metrics.Metrics // may be nil
}

// DataInputs is how a job's inputs are stored.
type DataInputs struct {
	Variable  json.RawMessage `json:"variable"`
	Domain    json.RawMessage `json:"domain"`
	Operation json.RawMessage `json:"operation"`
}

// OutputDir is where a job's files go: DATA_PATH/<user id>/<job id>
// (jobs.JobDir, which Cancel and Expire return for removal).
func OutputDir(dataPath string, userID, jobID int64) string {
	return filepath.Join(dataPath, jobs.JobDir(userID, jobID))
}

// Run is a jobs.RunFunc.
func (w *Worker) Run(ctx context.Context, job jobs.Job) error {
	log := w.Log.With("job", job.ID, "user", job.UserID, "process", job.Identifier)
	var in DataInputs
	if err := json.Unmarshal([]byte(job.DataInputs), &in); err != nil {
		return fmt.Errorf("the stored request is damaged: %v", err)
	}
	wf, err := workflow.Parse(job.Identifier, string(in.Variable), string(in.Domain), string(in.Operation), w.Catalogue)
	if err != nil {
		return err
	}
	// The runner has already marked the job Started.
	log.Info("job started")
	began := time.Now()
	if w.Metrics != nil {
		w.Metrics.QueueWait.Observe(began.Sub(job.Created).Seconds())
	}
	dir := OutputDir(w.DataPath, job.UserID, job.ID)
	// Every attempt starts from an empty directory: a job runs again from
	// the start after its worker died (job.Attempt > 1) or shut down, and
	// whatever the earlier attempt left was never recorded as an output.
	if err := os.RemoveAll(dir); err != nil {
		log.Error("clearing the job directory", "err", err)
		return errors.New("internal error while preparing the job; the server log has the details")
	}
	results, err := w.Catalogue.Run(ctx, wf, processes.Env{
		Access:       w.Access,
		OutDir:       dir,
		SlabBytes:    w.SlabBytes,
		MaxReadBytes: w.MaxReadBytes,
		TempDir:      filepath.Join(w.DataPath, "tmp"),
		Server:       w.Server,
		Version:      w.Version,
		Document:     job.Request,
		Progress:     w.progress(ctx, job.ID, log),
	})
	w.observe(job.Identifier, err, began, results)
	if err != nil {
		log.Warn("job failed", "err", err, "seconds", time.Since(began).Seconds())
		var ue *processes.UserError
		if errors.As(err, &ue) {
			return errors.New(ue.Text)
		}
		if ctx.Err() != nil {
			return errors.New("the job was stopped before it finished")
		}
		return errors.New("internal error while computing; the server log has the details")
	}
	outs := make([]jobs.Output, len(results))
	for i, r := range results {
		rel, err := filepath.Rel(w.DataPath, r.Path)
		if err != nil {
			return err
		}
		outs[i] = jobs.Output{Name: r.Name, Path: rel, Size: r.Size, VarID: r.VarID, MimeType: "application/netcdf"}
	}
	// The provenance document goes beside the outputs before they are
	// published, so a succeeded job always has one.
	if err := w.writeProvenance(job, wf, results, began, dir); err != nil {
		log.Warn("writing provenance", "err", err)
	}
	if _, err := w.Store.Succeed(ctx, job.ID, outs, fmt.Sprintf("%d output(s)", len(outs))); err != nil {
		// Most likely the job was deleted while it ran: leave nothing behind.
		for _, r := range results {
			os.Remove(r.Path)
		}
		os.Remove(dir)
		return err
	}
	log.Info("job succeeded", "outputs", len(outs), "seconds", time.Since(began).Seconds())
	return nil
}

func (w *Worker) observe(process string, err error, began time.Time, results []processes.Result) {
	if w.Metrics == nil {
		return
	}
	state := string(jobs.Succeeded)
	if err != nil {
		state = string(jobs.Failed)
	}
	w.Metrics.JobsFinished.WithLabelValues(process, state).Inc()
	w.Metrics.RunTime.WithLabelValues(process).Observe(time.Since(began).Seconds())
	for _, r := range results {
		w.Metrics.BytesWritten.Add(float64(r.Size))
	}
}

// ProvenanceFile is the name of a job's W3C PROV-JSON document.
const ProvenanceFile = "provenance.json"

func (w *Worker) writeProvenance(job jobs.Job, wf *workflow.Workflow, results []processes.Result, began time.Time, dir string) error {
	user := strconv.FormatInt(job.UserID, 10)
	doc, err := processes.ProvenanceJSON(wf, results, processes.ProvInfo{
		Job: job.ID, User: user, Server: w.Server, Version: w.Version, Started: began, Ended: time.Now(),
	})
	if err != nil {
		return err
	}
	tmp := filepath.Join(dir, ProvenanceFile+".part")
	if err := os.WriteFile(tmp, doc, 0o640); err != nil {
		return err
	}
	return os.Rename(tmp, filepath.Join(dir, ProvenanceFile))
}

// progress records messages in the store, at most a few a second, but
// never drops a change of message text such as a new subset step.
func (w *Worker) progress(ctx context.Context, jobID int64, log *slog.Logger) func(int, string) {
	var mu sync.Mutex
	var last time.Time
	var lastPct = -1
	var lastMsg string
	return func(pct int, msg string) {
		mu.Lock()
		defer mu.Unlock()
		if msg == lastMsg && (pct == lastPct || time.Since(last) < 250*time.Millisecond) {
			return
		}
		last, lastPct, lastMsg = time.Now(), pct, msg
		if err := w.Store.Progress(ctx, jobID, pct, msg); err != nil && ctx.Err() == nil {
			log.Warn("recording progress", "err", err)
		}
	}
}
