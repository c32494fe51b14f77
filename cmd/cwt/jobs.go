package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/computewps/computewps/cwt"
)

func parseJobID(s string) (int64, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n <= 0 {
		return 0, usagef("%q is not a job id (a positive number, as \"cwt jobs\" lists them)", s)
	}
	return n, nil
}

func (a *app) statusCommand() *cobra.Command {
	var asJSON, wait bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "status JOB",
		Short: "Show a job: its state, progress and outputs",
		Long: `Show a job: its state, progress and outputs. With --wait, follow it until it
ends, as "execute --wait" does. The exit code is 3 when the job failed.`,
		Example: `  cwt status 12
  cwt status 12 --wait --timeout 10m
  cwt status 12 --json`,
		Args: exactArgs(1, "a job id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := a.jobClient(args[0])
			if err != nil {
				return err
			}
			j, err := c.Job(cmd.Context(), id)
			if err != nil {
				return err
			}
			if wait {
				e := c.Execution(j.StatusLocation)
				if j.StatusLocation == "" {
					e = c.Execution(strings.TrimSuffix(j.URL, "/") + ".wps")
				}
				e.Identifier, e.JobID = j.Identifier, strconv.FormatInt(j.ID, 10)
				st, werr := a.follow(cmd.Context(), c, e, timeout)
				if !asJSON {
					return a.printResult(e, st, werr, false)
				}
				if werr != nil && st == nil {
					return werr
				}
				if j2, err := c.Job(cmd.Context(), id); err == nil {
					j = j2
				}
				if perr := printJSON(a.io.out, j); perr != nil {
					return perr
				}
				return werr
			}
			if asJSON {
				if err := printJSON(a.io.out, j); err != nil {
					return err
				}
			} else {
				a.printJob(j)
			}
			if j.Status == cwt.Failed {
				return &cwt.JobFailedError{JobID: args[0], Status: &cwt.Status{State: cwt.Failed, Message: j.Message}}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the job as the server's job API has it")
	cmd.Flags().BoolVarP(&wait, "wait", "w", false, "wait for the job to end, showing its progress")
	cmd.Flags().DurationVar(&timeout, "timeout", 0, "with --wait, stop waiting after this long (exit code 5)")
	return cmd
}

func (a *app) printJob(j *cwt.Job) {
	w := a.io.out
	fmt.Fprintf(w, "Job %d  %s  %s", j.ID, j.Identifier, j.Status)
	if j.Status == cwt.Started || j.Status == cwt.Paused {
		fmt.Fprintf(w, " %d%%", j.Percent)
	}
	if j.Message != "" {
		fmt.Fprintf(w, "  %s", j.Message)
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "Accepted %s", localTime(j.Accepted))
	if j.Elapsed != nil {
		fmt.Fprintf(w, ", elapsed %s", *j.Elapsed)
	}
	fmt.Fprintln(w)
	for _, o := range j.Output {
		fmt.Fprintf(w, "Output %s  %s  %s\n", o.FileName(), sizeOf(o), o.Remote)
	}
}

func sizeOf(o cwt.JobOutput) string {
	if o.Bytes > 0 {
		return strconv.FormatInt(o.Bytes, 10) + " bytes"
	}
	return fmt.Sprint(o.Size) + " MB"
}

func (a *app) jobsCommand() *cobra.Command {
	var asJSON, all bool
	var limit, offset int
	cmd := &cobra.Command{
		Use:   "jobs",
		Short: "List your jobs, newest first",
		Example: `  cwt jobs
  cwt jobs --limit 5 --offset 5
  cwt jobs --all --json`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if limit < 0 || offset < 0 {
				return usagef("--limit and --offset must not be negative")
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			var jobs []cwt.Job
			count := 0
			if all {
				for j, err := range c.AllJobs(cmd.Context()) {
					if err != nil {
						return err
					}
					jobs = append(jobs, j)
				}
				count = len(jobs)
			} else {
				page, err := c.Jobs(cmd.Context(), limit, offset)
				if err != nil {
					return err
				}
				jobs, count = page.Results, page.Count
			}
			if jobs == nil {
				jobs = []cwt.Job{}
			}
			if asJSON {
				return printJSON(a.io.out, map[string]any{"count": count, "results": jobs})
			}
			if len(jobs) == 0 {
				fmt.Fprintln(a.io.err, "No jobs.")
				return nil
			}
			tw := tabwriter.NewWriter(a.io.out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tPROCESS\tSTATUS\t%\tACCEPTED\tMESSAGE")
			for _, j := range jobs {
				msg := j.Message
				if len([]rune(msg)) > 50 {
					msg = string([]rune(msg)[:49]) + "…"
				}
				fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\n", j.ID, j.Identifier, j.Status, j.Percent, localTime(j.Accepted), msg)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if !all && offset+len(jobs) < count {
				fmt.Fprintf(a.io.err, "%d of %d jobs shown; --offset %d for more, or --all\n", len(jobs), count, offset+len(jobs))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 20, "jobs per page")
	cmd.Flags().IntVar(&offset, "offset", 0, "jobs to skip")
	cmd.Flags().BoolVar(&all, "all", false, "every job, reading page after page")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print {count, results} with the jobs as the job API has them")
	return cmd
}

func (a *app) downloadCommand() *cobra.Command {
	var dir string
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "download JOB",
		Short: "Download a finished job's output files",
		Long: `Download the output files of a job that succeeded into a directory (the current
one by default), under the names the server gave them. A file appears only once
complete; an existing file of the same name is replaced.`,
		Example: `  cwt download 12
  cwt download 12 -o results/
  ncdump -h "$(cwt download 12 -o /tmp | head -1)"`,
		Args: exactArgs(1, "a job id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := a.jobClient(args[0])
			if err != nil {
				return err
			}
			j, err := c.Job(cmd.Context(), id)
			if err != nil {
				return err
			}
			switch j.Status {
			case cwt.Succeeded:
			case cwt.Failed:
				return &cwt.JobFailedError{JobID: args[0], Status: &cwt.Status{State: cwt.Failed, Message: j.Message}}
			default:
				return fmt.Errorf("job %d has not finished (%s); wait for it with \"cwt status %d --wait\"", id, j.Status, id)
			}
			if len(j.Output) == 0 {
				return fmt.Errorf("job %d has no output files", id)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
			type saved struct {
				Path  string `json:"path"`
				URI   string `json:"uri"`
				Bytes int64  `json:"bytes"`
			}
			var files []saved
			for _, o := range j.Output {
				dst := filepath.Join(dir, o.FileName())
				var progress io.Writer
				var bar *progressbar.ProgressBar
				if !a.quiet && isTerminal(a.io.err) {
					bar = bytesBar(a.io.err, o.Bytes, o.FileName())
					progress = bar
				}
				n, err := c.DownloadFile(cmd.Context(), o.Remote, dst, progress)
				if bar != nil {
					_ = bar.Finish()
				}
				if err != nil {
					return err
				}
				if o.Bytes > 0 && n != o.Bytes {
					return fmt.Errorf("%s: got %d bytes, the server announced %d", dst, n, o.Bytes)
				}
				files = append(files, saved{Path: dst, URI: o.Remote, Bytes: n})
			}
			if asJSON {
				return printJSON(a.io.out, files)
			}
			for _, f := range files {
				fmt.Fprintln(a.io.out, f.Path)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&dir, "output-dir", "o", ".", "directory for the files (created if missing)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON list of {path, uri, bytes}")
	return cmd
}

// bytesBar is progressbar.DefaultBytes on w rather than stdout, which
// holds the command's output.
func bytesBar(w io.Writer, total int64, name string) *progressbar.ProgressBar {
	if total <= 0 {
		total = -1
	}
	return progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(name),
		progressbar.OptionShowBytes(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionShowCount(),
		progressbar.OptionClearOnFinish(),
	)
}

func (a *app) cancelCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cancel JOB",
		Short: "Stop a job and delete its output files",
		Long: `Dismiss a job on the server (DELETE /wps/api/job/JOB/): a job that is
waiting or running stops within seconds and ends as failed ("Dismissed by its
owner"); its output files are deleted and their URLs stop working. The job's
record stays in "cwt jobs" until the server expires it.`,
		Example: `  cwt cancel 12
  cwt jobs --json | python3 -c 'import json,sys; [print(j["id"]) for j in json.load(sys.stdin)["results"] if j["status"]=="ProcessFailed"]' | xargs -n1 cwt cancel`,
		Args: exactArgs(1, "a job id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, c, err := a.jobClient(args[0])
			if err != nil {
				return err
			}
			if err := c.DeleteJob(cmd.Context(), id); err != nil {
				return err
			}
			fmt.Fprintf(a.io.out, "Dismissed job %d; its output files are deleted.\n", id)
			return nil
		},
	}
	return cmd
}

// localTime shows the server's ISO 8601 time in the local zone, to the
// second.
func localTime(s string) string {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

// jobClient parses a job id argument and makes the client to ask about it.
func (a *app) jobClient(arg string) (int64, *cwt.Client, error) {
	id, err := parseJobID(arg)
	if err != nil {
		return 0, nil, err
	}
	c, err := a.client()
	return id, c, err
}
