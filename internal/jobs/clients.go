package jobs

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Client is the OAuth2 client a user registered through the server. The
// registration access token is stored sealed by the caller; the client
// secret is never stored.
type Client struct {
	ClientID        string
	RegistrationURI string
	SealedToken     string
	Created         time.Time
}

// RegisteredClient returns the client of a user, if any.
func (s *Store) RegisteredClient(ctx context.Context, user string) (Client, bool, error) {
	var c Client
	var created int64
	err := s.queryRow(ctx, s.db, `SELECT c.client_id, c.registration_uri, c.sealed_token, c.created_at
		FROM registered_clients c JOIN users u ON u.id = c.user_id WHERE u.name = ?`, user).
		Scan(&c.ClientID, &c.RegistrationURI, &c.SealedToken, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return Client{}, false, nil
	}
	if err != nil {
		return Client{}, false, fmt.Errorf("jobs: read registered client: %w", err)
	}
	c.Created = goTime(created)
	return c, true, nil
}

// SaveClient records or replaces the client of a user.
func (s *Store) SaveClient(ctx context.Context, user string, c Client) error {
	u, err := s.User(ctx, user)
	if err != nil {
		return err
	}
	if c.Created.IsZero() {
		c.Created = now()
	}
	_, err = s.exec(ctx, s.db, `INSERT INTO registered_clients (user_id, client_id, registration_uri, sealed_token, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET client_id = excluded.client_id,
			registration_uri = excluded.registration_uri, sealed_token = excluded.sealed_token,
			created_at = excluded.created_at`,
		u.ID, c.ClientID, c.RegistrationURI, c.SealedToken, dbTime(c.Created))
	if err != nil {
		return fmt.Errorf("jobs: save registered client: %w", err)
	}
	return nil
}

// DeleteClient forgets the client of a user.
func (s *Store) DeleteClient(ctx context.Context, user string) error {
	_, err := s.exec(ctx, s.db, `DELETE FROM registered_clients WHERE user_id = (SELECT id FROM users WHERE name = ?)`, user)
	if err != nil {
		return fmt.Errorf("jobs: delete registered client: %w", err)
	}
	return nil
}

// OwnerOfClient returns the user who registered a client.
func (s *Store) OwnerOfClient(ctx context.Context, clientID string) (string, bool, error) {
	var name string
	err := s.queryRow(ctx, s.db, `SELECT u.name FROM registered_clients c JOIN users u ON u.id = c.user_id
		WHERE c.client_id = ?`, clientID).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("jobs: read client owner: %w", err)
	}
	return name, true, nil
}
