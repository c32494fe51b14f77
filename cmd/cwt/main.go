// Command cwt is the shell client of ComputeWPS (and of the LLNL ESGF
// Compute WPS): list and describe processes, run them, follow and download
// jobs, and log in. `cwt --help` lists the commands, each with an example;
// the README's "Use from the shell" section has a whole session.
//
// Exit codes: 0 success, 1 error (network, server, files), 2 usage error,
// 3 the job failed, 4 authentication failed or is needed, 5 timed out
// waiting for a job, 130 interrupted.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], streams{in: os.Stdin, out: os.Stdout, err: os.Stderr}, os.Getenv)
	stop()
	os.Exit(code)
}
