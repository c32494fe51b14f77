package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver for PostgreSQL
	_ "modernc.org/sqlite"             // registers the pure-Go "sqlite" driver
)

// defaultDBName is the SQLite file under DATA_PATH used when no URL is given.
const defaultDBName = "compute-wps.db"

// Open opens the job store. databaseURL "" means SQLite at
// filepath.Join(dataPath, "compute-wps.db"); "sqlite:///abs/path.db",
// "sqlite://rel.db" and "sqlite:rel.db" name a SQLite file explicitly;
// "postgres://" and "postgresql://" URLs (any libpq URL parameters) name a
// PostgreSQL database shared by every server and worker process.
// Open does not migrate: call Migrate.
func Open(ctx context.Context, databaseURL, dataPath string) (*Store, error) {
	d, path, err := parseDatabaseURL(databaseURL, dataPath)
	if err != nil {
		return nil, err
	}
	var db *sql.DB
	if d == dialectPostgres {
		db, err = openPostgres(ctx, databaseURL)
	} else {
		db, err = openSQLite(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	q, err := newInsertQueue(db, d)
	if err != nil {
		db.Close()
		return nil, err
	}
	return &Store{db: db, dialect: d, queue: q, runners: &runnerSet{}}, nil
}

// parseDatabaseURL returns the dialect and, for SQLite, the file path.
func parseDatabaseURL(databaseURL, dataPath string) (dialect, string, error) {
	switch {
	case databaseURL == "":
		if dataPath == "" {
			return "", "", errors.New("jobs: neither a database URL nor a data path is set")
		}
		return dialectSQLite, filepath.Join(dataPath, defaultDBName), nil
	case strings.HasPrefix(databaseURL, "postgres://"), strings.HasPrefix(databaseURL, "postgresql://"):
		return dialectPostgres, "", nil
	case strings.HasPrefix(databaseURL, "sqlite:"):
		// River's CLIs accept the same forms: the "//" after "sqlite:" is optional.
		path := strings.TrimPrefix(strings.TrimPrefix(databaseURL, "sqlite:"), "//")
		if path == "" {
			return "", "", fmt.Errorf("jobs: database URL %q names no file", databaseURL)
		}
		return dialectSQLite, path, nil
	default:
		scheme, _, _ := strings.Cut(databaseURL, ":")
		return "", "", fmt.Errorf("jobs: unsupported database URL scheme %q (want sqlite: or postgres:)", scheme)
	}
}

// sqliteDSN builds a modernc.org/sqlite DSN. busy_timeout comes first so that
// switching to WAL waits for other processes instead of failing;
// _txlock=immediate takes the write lock at BEGIN, so a transaction never
// fails with SQLITE_BUSY when it upgrades from reading to writing.
func sqliteDSN(path string) (string, error) {
	// A plain file name ends at its first "?": the rest is the driver's query.
	if strings.Contains(path, "?") {
		return "", fmt.Errorf("jobs: SQLite path %q must not contain '?'", path)
	}
	return path + "?_txlock=immediate" +
		"&_pragma=busy_timeout(10000)" +
		"&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)", nil
}

func openSQLite(ctx context.Context, path string) (*sql.DB, error) {
	dsn, err := sqliteDSN(path)
	if err != nil {
		return nil, err
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("jobs: create database directory: %w", err)
		}
	}
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("jobs: open %s: %w", path, err)
	}
	// One connection, as River's SQLite driver recommends: SQLite runs one
	// writer at a time, and a single connection turns would-be SQLITE_BUSY
	// errors into waiting in database/sql's queue. It also keeps a :memory:
	// database alive, so it must never be recycled.
	db.SetMaxOpenConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("jobs: open %s: %w", path, err)
	}
	return db, nil
}

// pingTimeout bounds Ping, so that a readiness probe answers "not ready"
// quickly (Kubernetes gives a probe one second by default) when the database
// hangs or is unreachable, instead of waiting on TCP. A healthy database
// answers in milliseconds.
const pingTimeout = time.Second

// connectTimeout bounds Open's first connection: at start-up a slow answer
// is better than none, but a wrong address must not hang the process.
const connectTimeout = 10 * time.Second

// postgresMaxConns bounds one process's connections. Every worker slot
// may hold one while it records progress, and River's producer, completer
// and maintenance services share the rest; PostgreSQL allows 100 by default
// for all processes together.
const postgresMaxConns = 16

func openPostgres(ctx context.Context, url string) (*sql.DB, error) {
	db, err := sql.Open("pgx", url)
	if err != nil {
		return nil, fmt.Errorf("jobs: open PostgreSQL: %w", err)
	}
	db.SetMaxOpenConns(postgresMaxConns)
	db.SetMaxIdleConns(postgresMaxConns)
	db.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := db.PingContext(pctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("jobs: connect to PostgreSQL at %s: %w", redact(url), err)
	}
	return db, nil
}

// redact hides a password in a database URL, for messages.
func redact(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	userinfo, host, ok := strings.Cut(rest, "@")
	if !ok {
		return url
	}
	if name, _, hasPass := strings.Cut(userinfo, ":"); hasPass {
		userinfo = name + ":xxxxx"
	}
	return scheme + "://" + userinfo + "@" + host
}

// runnerSet is the store's running Runners, told at once when Cancel
// dismisses a job so that one running here stops without waiting for the
// next lease check.
type runnerSet struct {
	mu   sync.Mutex
	list []*Runner
}

func (rs *runnerSet) add(r *Runner) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	rs.list = append(rs.list, r)
}

func (rs *runnerSet) remove(r *Runner) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for i, x := range rs.list {
		if x == r {
			rs.list = append(rs.list[:i], rs.list[i+1:]...)
			return
		}
	}
}

func (rs *runnerSet) kick() {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, r := range rs.list {
		r.keeper.kick()
	}
}
