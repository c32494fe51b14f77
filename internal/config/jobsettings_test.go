package config

import (
	"strings"
	"testing"
	"time"
)

func TestJobSettings(t *testing.T) {
	c, err := Load(env(map[string]string{"AUTH_ENABLED": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.JobLease != time.Minute || c.JobAttempts != 3 || c.JobRetention != 30*24*time.Hour ||
		c.UserMaxRunning != 0 || c.UserMaxQueued != 20 || c.UserMaxStorage != 10<<30 {
		t.Errorf("defaults: lease %v attempts %d retention %v running %d queued %d storage %d",
			c.JobLease, c.JobAttempts, c.JobRetention, c.UserMaxRunning, c.UserMaxQueued, c.UserMaxStorage)
	}
	c, err = Load(env(map[string]string{"AUTH_ENABLED": "false", "WPS_JOB_LEASE": "2s", "WPS_JOB_ATTEMPTS": "5",
		"WPS_JOB_RETENTION": "0", "WPS_USER_MAX_RUNNING": "2", "WPS_USER_MAX_QUEUED": "0", "WPS_USER_MAX_STORAGE": "500MB"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.JobLease != 2*time.Second || c.JobAttempts != 5 || c.JobRetention != 0 ||
		c.UserMaxRunning != 2 || c.UserMaxQueued != 0 || c.UserMaxStorage != 500e6 {
		t.Errorf("values: %+v", c)
	}
	_, err = Load(env(map[string]string{"AUTH_ENABLED": "false", "WPS_JOB_LEASE": "100ms", "WPS_JOB_ATTEMPTS": "0",
		"WPS_USER_MAX_QUEUED": "-1"}))
	for _, want := range []string{"WPS_JOB_LEASE must be at least 1s", "WPS_JOB_ATTEMPTS must be at least 1", "must not be negative"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad settings: %v, want %q", err, want)
		}
	}
}
