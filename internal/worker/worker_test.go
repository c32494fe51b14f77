package worker

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/computewps/computewps/internal/jobs"
	"github.com/computewps/computewps/internal/processes"
)

// A retried attempt starts from an empty job directory: files an earlier
// attempt left there (it was killed mid-write) are gone before it computes.
func TestAttemptStartsWithEmptyDirectory(t *testing.T) {
	data := t.TempDir()
	store, err := jobs.Open(t.Context(), "", data)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	job := jobs.Job{ID: 7, UserID: 3, Attempt: 2, Identifier: "CDAT.subset",
		DataInputs: fmt.Sprintf(`{"variable":[{"uri":%q,"id":"tas|v0"}],"domain":[],`+
			`"operation":[{"name":"CDAT.subset","result":"s0","input":["v0"]}]}`, "file://"+filepath.Join(data, "missing.nc"))}
	dir := OutputDir(data, job.UserID, job.ID)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	stale := filepath.Join(dir, "CDAT.subset_s0_0123abcd.nc")
	if err := os.WriteFile(stale, []byte("half a file"), 0o640); err != nil {
		t.Fatal(err)
	}
	w := &Worker{Store: store, Catalogue: processes.Default(), Access: &processes.Access{Roots: []string{data}},
		DataPath: data, SlabBytes: 1 << 20, Log: slog.New(slog.DiscardHandler)}
	// The input does not exist, so the attempt fails, but only after it
	// prepared its directory.
	if err := w.Run(context.Background(), job); err == nil {
		t.Fatal("a job reading a missing file succeeded")
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the earlier attempt's file is still there: %v", err)
	}
}
