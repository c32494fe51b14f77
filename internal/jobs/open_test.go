package jobs

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestParseDatabaseURL(t *testing.T) {
	for _, tc := range []struct {
		url, dataPath string
		dialect       dialect
		path          string
	}{
		{"", "/data", dialectSQLite, "/data/compute-wps.db"},
		{"sqlite:///abs/path.db", "/data", dialectSQLite, "/abs/path.db"},
		{"sqlite:/abs/path.db", "", dialectSQLite, "/abs/path.db"},
		{"sqlite://rel.db", "", dialectSQLite, "rel.db"},
		{"sqlite:rel.db", "", dialectSQLite, "rel.db"},
		{"postgres://u@h/db", "", dialectPostgres, ""},
		{"postgresql://u@h/db", "", dialectPostgres, ""},
	} {
		d, path, err := parseDatabaseURL(tc.url, tc.dataPath)
		if err != nil || d != tc.dialect || path != tc.path {
			t.Errorf("parseDatabaseURL(%q, %q) = %q, %q, %v; want %q, %q",
				tc.url, tc.dataPath, d, path, err, tc.dialect, tc.path)
		}
	}
	for _, bad := range []string{"sqlite:", "sqlite://", "mysql://h/db", "/just/a/path.db"} {
		if _, _, err := parseDatabaseURL(bad, "/data"); err == nil {
			t.Errorf("parseDatabaseURL(%q) succeeded", bad)
		}
	}
	if _, _, err := parseDatabaseURL("", ""); err == nil {
		t.Error("no URL and no data path accepted")
	}
}

func TestOpenPostgresNotYet(t *testing.T) {
	_, err := Open(t.Context(), "postgres://user@localhost/compute", "")
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL support comes in a later release") {
		t.Errorf("Open(postgres) error = %v", err)
	}
}

func TestOpenSQLitePragmas(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "jobs.db") // the directory is created
	s := openStoreAt(t, "sqlite://"+path, "")
	for _, tc := range []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"}, // NORMAL
	} {
		var got string
		if err := s.db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("PRAGMA %s = %s, want %s", tc.pragma, got, tc.want)
		}
	}
	if _, err := Open(t.Context(), "sqlite:"+filepath.Join(dir, "what?.db"), ""); err == nil {
		t.Error("a path with '?' was accepted")
	}
}

func TestRebind(t *testing.T) {
	q := `SELECT a FROM t WHERE b = ? AND c = '?' AND d IN (?, ?)`
	if got := dialectSQLite.rebind(q); got != q {
		t.Errorf("sqlite rebind changed the query: %s", got)
	}
	want := `SELECT a FROM t WHERE b = $1 AND c = '?' AND d IN ($2, $3)`
	if got := dialectPostgres.rebind(q); got != want {
		t.Errorf("postgres rebind = %s, want %s", got, want)
	}
}
