package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration is one step of our schema. DDL is the only SQL that differs
// between databases (identity columns, integer widths), so each step is kept
// per dialect. Times are BIGINT Unix nanoseconds on both: SQLite's INTEGER
// is 64 bits already, PostgreSQL's is 32.
type migration struct {
	version  int
	sqlite   []string
	postgres []string
}

// migrations are applied in order and never edited once released: add a new
// version instead. IDs use AUTOINCREMENT so a deleted job's id is never given
// to a new job (a queued River job for the old id would otherwise run it);
// PostgreSQL's BIGSERIAL sequences never reuse a value either.
var migrations = []migration{
	{version: 1, sqlite: []string{
		`CREATE TABLE users (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			name       TEXT    NOT NULL UNIQUE,
			created_at INTEGER NOT NULL
		)`,
		`CREATE TABLE jobs (
			id          INTEGER PRIMARY KEY AUTOINCREMENT,
			user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			identifier  TEXT    NOT NULL,
			data_inputs TEXT    NOT NULL,
			request     TEXT    NOT NULL,
			state       TEXT    NOT NULL CHECK (state IN
				('ProcessAccepted', 'ProcessStarted', 'ProcessPaused', 'ProcessSucceeded', 'ProcessFailed')),
			percent     INTEGER NOT NULL DEFAULT 0,
			message     TEXT    NOT NULL DEFAULT '',
			created_at  INTEGER NOT NULL,
			updated_at  INTEGER NOT NULL,
			started_at  INTEGER,
			finished_at INTEGER
		)`,
		`CREATE INDEX jobs_user_id_id ON jobs (user_id, id)`,
		// unique(job_id, state) also serves as the index on statuses(job_id).
		`CREATE TABLE statuses (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
			state      TEXT    NOT NULL CHECK (state IN
				('ProcessAccepted', 'ProcessStarted', 'ProcessPaused', 'ProcessSucceeded', 'ProcessFailed')),
			created_at INTEGER NOT NULL,
			updated_at INTEGER NOT NULL,
			UNIQUE (job_id, state)
		)`,
		`CREATE TABLE messages (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			status_id  INTEGER NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
			text       TEXT    NOT NULL,
			percent    INTEGER NOT NULL CHECK (percent BETWEEN 0 AND 100),
			created_at INTEGER NOT NULL
		)`,
		`CREATE INDEX messages_status_id ON messages (status_id)`,
		// unique(job_id, name) also serves as the index on outputs(job_id).
		`CREATE TABLE outputs (
			id         INTEGER PRIMARY KEY AUTOINCREMENT,
			job_id     INTEGER NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
			name       TEXT    NOT NULL,
			path       TEXT    NOT NULL,
			size       INTEGER NOT NULL,
			var_id     TEXT    NOT NULL,
			mime_type  TEXT    NOT NULL,
			token      TEXT    NOT NULL UNIQUE,
			created_at INTEGER NOT NULL,
			UNIQUE (job_id, name)
		)`,
	}, postgres: []string{
		`CREATE TABLE users (
			id         BIGSERIAL PRIMARY KEY,
			name       TEXT      NOT NULL UNIQUE,
			created_at BIGINT    NOT NULL
		)`,
		`CREATE TABLE jobs (
			id          BIGSERIAL PRIMARY KEY,
			user_id     BIGINT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
			identifier  TEXT      NOT NULL,
			data_inputs TEXT      NOT NULL,
			request     TEXT      NOT NULL,
			state       TEXT      NOT NULL CHECK (state IN
				('ProcessAccepted', 'ProcessStarted', 'ProcessPaused', 'ProcessSucceeded', 'ProcessFailed')),
			percent     INTEGER   NOT NULL DEFAULT 0,
			message     TEXT      NOT NULL DEFAULT '',
			created_at  BIGINT    NOT NULL,
			updated_at  BIGINT    NOT NULL,
			started_at  BIGINT,
			finished_at BIGINT
		)`,
		`CREATE INDEX jobs_user_id_id ON jobs (user_id, id)`,
		`CREATE TABLE statuses (
			id         BIGSERIAL PRIMARY KEY,
			job_id     BIGINT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
			state      TEXT      NOT NULL CHECK (state IN
				('ProcessAccepted', 'ProcessStarted', 'ProcessPaused', 'ProcessSucceeded', 'ProcessFailed')),
			created_at BIGINT    NOT NULL,
			updated_at BIGINT    NOT NULL,
			UNIQUE (job_id, state)
		)`,
		`CREATE TABLE messages (
			id         BIGSERIAL PRIMARY KEY,
			status_id  BIGINT    NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
			text       TEXT      NOT NULL,
			percent    INTEGER   NOT NULL CHECK (percent BETWEEN 0 AND 100),
			created_at BIGINT    NOT NULL
		)`,
		`CREATE INDEX messages_status_id ON messages (status_id)`,
		`CREATE TABLE outputs (
			id         BIGSERIAL PRIMARY KEY,
			job_id     BIGINT    NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
			name       TEXT      NOT NULL,
			path       TEXT      NOT NULL,
			size       BIGINT    NOT NULL,
			var_id     TEXT      NOT NULL,
			mime_type  TEXT      NOT NULL,
			token      TEXT      NOT NULL UNIQUE,
			created_at BIGINT    NOT NULL,
			UNIQUE (job_id, name)
		)`,
	}},
	// The OAuth2 client each user registered: its owner maps
	// client-credentials tokens back to the user.
	{version: 2, sqlite: []string{
		`CREATE TABLE registered_clients (
			user_id          INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
			client_id        TEXT    NOT NULL UNIQUE,
			registration_uri TEXT    NOT NULL,
			sealed_token     TEXT    NOT NULL,
			created_at       INTEGER NOT NULL
		)`,
	}, postgres: []string{
		`CREATE TABLE registered_clients (
			user_id          BIGINT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
			client_id        TEXT   NOT NULL UNIQUE,
			registration_uri TEXT   NOT NULL,
			sealed_token     TEXT   NOT NULL,
			created_at       BIGINT NOT NULL
		)`,
	}},
	// Leases, attempts and dismissal (see lease.go). A job waits for a
	// worker while it is unfinished and lease_until is NULL; an attempt holds
	// it while lease_until is set, identified by the random lease token that
	// every write of the attempt must match. The partial indexes serve the
	// claim (waiting jobs, running jobs per user), the reaper (expired leases)
	// and expiry (finished jobs by age).
	{version: 3, sqlite: leaseDDL, postgres: leaseDDL},
}

// leaseDDL is valid on both databases.
var leaseDDL = []string{
	`ALTER TABLE jobs ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0`,
	`ALTER TABLE jobs ADD COLUMN lease TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE jobs ADD COLUMN worker TEXT NOT NULL DEFAULT ''`,
	`ALTER TABLE jobs ADD COLUMN lease_until BIGINT`,
	`ALTER TABLE jobs ADD COLUMN dismissed_at BIGINT`,
	`CREATE INDEX jobs_waiting ON jobs (id)
		WHERE lease_until IS NULL AND state IN ('ProcessAccepted', 'ProcessStarted')`,
	`CREATE INDEX jobs_leased_by_user ON jobs (user_id) WHERE lease_until IS NOT NULL`,
	`CREATE INDEX jobs_lease_until ON jobs (lease_until) WHERE lease_until IS NOT NULL`,
	`CREATE INDEX jobs_finished_at ON jobs (finished_at) WHERE finished_at IS NOT NULL`,
}

// migrateLockKey is the PostgreSQL advisory lock that serializes Migrate
// across processes (an arbitrary constant: "cwps" in ASCII).
const migrateLockKey = 0x63777073

// Migrate creates or updates our tables, then River's. It is idempotent and
// safe to run from several processes at once: each step runs in its own
// transaction that re-checks whether the step is applied. SQLite runs one
// writing transaction at a time anyway; on PostgreSQL two transactions
// could both find a step missing, so the whole migration holds an advisory
// lock.
func (s *Store) Migrate(ctx context.Context) error {
	if s.dialect == dialectPostgres {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return fmt.Errorf("jobs: migrate: %w", err)
		}
		defer conn.Close()
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, migrateLockKey); err != nil {
			return fmt.Errorf("jobs: migrate: lock: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, migrateLockKey)
	}
	return s.migrate(ctx)
}

func (s *Store) migrate(ctx context.Context) error {
	if _, err := s.exec(ctx, s.db, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version    INTEGER PRIMARY KEY,
		applied_at BIGINT  NOT NULL -- Unix ns: BIGINT so it also fits PostgreSQL
	)`); err != nil {
		return fmt.Errorf("jobs: migrate: %w", err)
	}
	for _, m := range migrations {
		stmts, err := m.statements(s.dialect)
		if err != nil {
			return err
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			var one int
			err := s.queryRow(ctx, tx, `SELECT 1 FROM schema_migrations WHERE version = ?`, m.version).Scan(&one)
			if err == nil {
				return nil // already applied
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			for _, stmt := range stmts {
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return err
				}
			}
			_, err = s.exec(ctx, tx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
				m.version, dbTime(now()))
			return err
		})
		if err != nil {
			return fmt.Errorf("jobs: migrate to version %d: %w", m.version, err)
		}
	}
	// River's migrator takes connections of its own, so it runs after our
	// transactions are closed.
	return migrateRiver(ctx, s.db, s.dialect)
}

func (m migration) statements(d dialect) ([]string, error) {
	switch {
	case d == dialectSQLite && m.sqlite != nil:
		return m.sqlite, nil
	case d == dialectPostgres && m.postgres != nil:
		return m.postgres, nil
	}
	return nil, fmt.Errorf("jobs: migration %d has no %s DDL", m.version, d)
}
