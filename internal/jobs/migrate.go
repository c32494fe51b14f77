package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// migration is one step of our schema. DDL is the only SQL that differs
// between databases (identity columns), so each step is kept per dialect.
type migration struct {
	version int
	sqlite  []string
}

// migrations are applied in order and never edited once released: add a new
// version instead. IDs use AUTOINCREMENT so a deleted job's id is never given
// to a new job (a queued River job for the old id would otherwise run it).
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
	}},
}

// Migrate creates or updates our tables, then River's. It is idempotent and
// safe to run from several processes at once: each step runs in its own
// transaction that re-checks whether the step is applied.
func (s *Store) Migrate(ctx context.Context) error {
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
	return migrateRiver(ctx, s.db)
}

func (m migration) statements(d dialect) ([]string, error) {
	if d == dialectSQLite {
		return m.sqlite, nil
	}
	return nil, fmt.Errorf("jobs: migration %d has no %s DDL", m.version, d)
}
