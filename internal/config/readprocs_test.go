package config

import (
	"runtime"
	"strings"
	"testing"
)

func TestReadProcesses(t *testing.T) {
	c, err := Load(env(map[string]string{"AUTH_ENABLED": "false"}))
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadProcs != runtime.NumCPU() {
		t.Errorf("default WPS_READ_PROCESSES %d, want the number of CPUs %d", c.ReadProcs, runtime.NumCPU())
	}
	c, err = Load(env(map[string]string{"AUTH_ENABLED": "false", "WPS_READ_PROCESSES": "1"}))
	if err != nil || c.ReadProcs != 1 {
		t.Errorf("WPS_READ_PROCESSES=1: %v, %v", c, err)
	}
	for _, bad := range []string{"0", "-2", "two"} {
		_, err := Load(env(map[string]string{"AUTH_ENABLED": "false", "WPS_READ_PROCESSES": bad}))
		if err == nil || !strings.Contains(err.Error(), "WPS_READ_PROCESSES") {
			t.Errorf("WPS_READ_PROCESSES=%s: %v", bad, err)
		}
	}
}
