// Package jobs holds the job model and its state machine, the SQL store that
// records jobs, statuses, messages and outputs, and the queue that hands jobs
// to workers (River over the same database).
//
// The store is written in portable SQL with "?" placeholders, rebound for
// PostgreSQL; only the opener and the migrations know which database, SQLite
// (the embedded default) or PostgreSQL (shared by many worker processes),
// they talk to. lease.go says how jobs run once at a time across processes,
// run again when their worker dies, and are shared fairly between users. Times are stored as
// integer Unix nanoseconds in UTC, which round-trips a Go time.Time exactly on
// every backend and sorts correctly.
package jobs

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// State is a WPS process status, spelled as in the ExecuteResponse document.
type State string

// The WPS 1.0.0 status values. Paused is accepted by the schema for
// compatibility but never produced.
const (
	Accepted  State = "ProcessAccepted"
	Started   State = "ProcessStarted"
	Paused    State = "ProcessPaused"
	Succeeded State = "ProcessSucceeded"
	Failed    State = "ProcessFailed"
)

// Done reports whether s is final.
func (s State) Done() bool { return s == Succeeded || s == Failed }

var (
	// ErrNotFound is returned (wrapped) when a job, status or output does not
	// exist or belongs to another user: callers never learn which.
	ErrNotFound = errors.New("not found")
	// ErrDone is returned (wrapped) by a transition on a job that already
	// succeeded or failed.
	ErrDone = errors.New("job already finished")
	// ErrTransition is returned (wrapped) by a transition the state machine
	// does not allow from the job's current state, e.g. Succeed before Start.
	ErrTransition = errors.New("illegal job state transition")
	// ErrLeaseLost is returned (wrapped) by Progress, Succeed or Fail called
	// with the context of an attempt that no longer holds the job: it was
	// dismissed, deleted, or given to another worker after this one stopped
	// renewing its lease. Nothing was recorded.
	ErrLeaseLost = errors.New("the job is no longer held by this attempt")
	// ErrLimit is returned (wrapped in a *LimitError) by Submit when the
	// user is over one of their limits.
	ErrLimit = errors.New("user limit reached")
)

// LimitError is a refused submission. Its message is meant for the user and
// names the numbers.
type LimitError struct {
	Limit string // "queued" or "storage"
	Used  int64  // jobs waiting, or bytes stored
	Max   int64
	Text  string
}

func (e *LimitError) Error() string { return e.Text }

// Is makes errors.Is(err, ErrLimit) true.
func (e *LimitError) Is(target error) bool { return target == ErrLimit }

// Limits are what the store enforces per user, and how long finished jobs
// are kept. Zero values mean no limit.
type Limits struct {
	// MaxRunning is how many of one user's jobs run at once, over all
	// workers; further jobs of theirs wait while other users' jobs run.
	MaxRunning int
	// MaxQueued is how many of one user's jobs may wait to run; Submit
	// refuses more.
	MaxQueued int
	// MaxStorage is the most bytes of outputs one user may keep; Submit
	// refuses new jobs once their outputs reach it.
	MaxStorage int64
	// Retention is how long a finished job and its outputs are kept; it
	// sets Job.Expires. Expire removes them.
	Retention time.Duration
}

// Dismissal is what Cancel did, and what its caller must delete.
type Dismissal struct {
	Job Job // the job after dismissal
	// Outputs are the output records Cancel removed; their files are under Dir.
	Outputs []Output
	// Dir is the job's directory relative to DATA_PATH ("<user id>/<job id>"),
	// to remove with everything in it.
	Dir string
	// WasRunning is true when an attempt held the job: it stops within
	// seconds, wherever it runs, and writes nothing that is served.
	WasRunning bool
}

// Expired is a job Expire removed, with the files its caller must delete.
type Expired struct {
	JobID   int64
	UserID  int64
	Dir     string // relative to DATA_PATH, as Dismissal.Dir
	Outputs []Output
}

// JobDir is the directory of a job's files relative to DATA_PATH:
// "<user id>/<job id>". Each attempt of the job writes there.
func JobDir(userID, jobID int64) string {
	return filepath.Join(strconv.FormatInt(userID, 10), strconv.FormatInt(jobID, 10))
}

// formatBytes renders a byte count for messages, in binary units.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}

// User is the owner of jobs; Name is the identity's user name.
type User struct {
	ID      int64
	Name    string
	Created time.Time
}

// Job is one Execute request and its latest status.
type Job struct {
	ID         int64
	UserID     int64
	Identifier string // process identifier, e.g. CDAT.subset
	DataInputs string // JSON object {"variable":[...],"domain":[...],"operation":[...]} as submitted
	Request    string // the Execute request document as received, kept for provenance
	State      State  // latest status
	Percent    int    // of the latest message of the latest status (0 when it has none)
	Message    string // latest message text of the latest status ("" when it has none)
	Created    time.Time
	Updated    time.Time
	Started    *time.Time
	Finished   *time.Time
	// Attempt counts the runs started so far: 1 while the first runs, 2
	// after a worker died and another took over, and so on.
	Attempt int
	// Worker names the process running the job ("host:pid"), "" when no
	// attempt holds it (waiting or finished).
	Worker string
	// Dismissed is when the owner dismissed (cancelled) the job. A job
	// dismissed before it finished is Failed with the message "Dismissed
	// by its owner"; one dismissed after has lost its outputs.
	Dismissed *time.Time
	// Expires is when Expire may remove a finished job: Finished plus the
	// store's retention. nil while running or when jobs are kept forever.
	Expires   *time.Time
	Outputs   []Output // filled by Get and List
	StatusIDs []int64  // ids of its status rows, oldest first; filled by Get and List
}

// StatusRecord is one state a job went through, with the messages attached to it.
type StatusRecord struct {
	ID       int64
	JobID    int64
	State    State
	Created  time.Time
	Updated  time.Time // last message added
	Messages []Message // oldest first
}

// Message is one progress or result line of a status.
type Message struct {
	ID      int64
	Text    string
	Percent int
	Created time.Time
}

// Output is one result file of a job.
type Output struct {
	ID       int64
	JobID    int64
	Name     string // file name, e.g. "CDAT.subset_s0_1a2b3c4d.nc"
	Path     string // path relative to DATA_PATH, e.g. "3/17/CDAT.subset_s0_1a2b3c4d.nc"
	Size     int64  // bytes
	VarID    string // the Variable id "tas|s0"
	MimeType string // "application/netcdf"
	Token    string // unguessable download token, generated by the store on insert
	Created  time.Time
}

// Submission is what Submit records.
type Submission struct {
	UserID     int64
	Identifier string
	DataInputs string
	Request    string
}
