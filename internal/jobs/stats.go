package jobs

import (
	"context"
	"fmt"
)

// StateCounts returns how many jobs are in each state, for metrics.
func (s *Store) StateCounts(ctx context.Context) (map[string]int, error) {
	rows, err := s.query(ctx, s.db, `SELECT state, COUNT(*) FROM jobs GROUP BY state`)
	if err != nil {
		return nil, fmt.Errorf("jobs: count states: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var state string
		var n int
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		out[state] = n
	}
	return out, rows.Err()
}
