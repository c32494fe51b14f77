package jobs

import (
	"os"
	"testing"

	"github.com/computewps/computewps/internal/jobs/pgtest"
)

// TestMain runs the tests with a PostgreSQL server started on first use and
// stopped at the end; re-executed as a worker process (see process_test.go)
// it runs that worker instead.
func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(childWorker())
	}
	os.Exit(pgtest.Run(m))
}
