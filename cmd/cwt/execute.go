package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/computewps/computewps/cwt"
)

// execResult is what --json prints for a job: one object, whatever
// happened to it.
type execResult struct {
	Job            *int64          `json:"job"`
	Process        string          `json:"process"`
	Status         cwt.State       `json:"status"`
	Percent        int             `json:"percent"`
	Message        string          `json:"message,omitempty"`
	StatusLocation string          `json:"status_location,omitempty"`
	Outputs        []*cwt.Variable `json:"outputs"`
	Error          string          `json:"error,omitempty"`
}

func (a *app) executeCommand() *cobra.Command {
	var (
		vars, params                  []string
		domain, inputsFile            string
		gridder, gridMethod, gridTool string
		wait, asJSON, useGet, dryRun  bool
		timeout                       time.Duration
	)
	cmd := &cobra.Command{
		Use:   "execute ID",
		Short: "Run a process on variables, within a domain",
		Long: `Run the process ID on the variables given with --var, within the domain given
with --domain, with the parameters given with --param.

--var URI:VAR names the variable VAR of a NetCDF file or OPeNDAP dataset; the
variable is after the last colon, so file:///data/tas.nc:tas and
http://host:8080/thredds/dodsC/x.nc:tas both work. A local path is sent as an
absolute file:// URL (for a server on this computer). Repeat --var for processes
that take several inputs (CDAT.aggregate, CDAT.merge, CDAT.add...).

--domain is a comma-separated list of NAME=START:END[:STEP] (or NAME=VALUE):
  lat=-30:30                 two numbers: coordinate values, both ends included
  time=1980-01-01:1989-12-31 anything else: timestamps in the file's calendar,
                             both ends included; "1980-01" is the whole month
  time=i0:10                 "i" first: indices, zero-based, end excluded
  time=2000-01-01T06:00..2000-01-02T18:00
                             ".." separates dates that contain ":"
A year alone (time=2000:2001) is two numbers, i.e. raw time values: write
time=2000-01:2001-12 for years.

--param NAME=VALUE sets a parameter of the process; repeating a name gives a
list, sent as "v1|v2" (--param axes=lat --param axes=lon). "cwt describe ID" lists
what a process takes.

--inputs FILE sends a ready workflow instead: a JSON object with the lists
"variable", "domain" and "operation" (the "datainputs" of "cwt status --json",
or what the Python client's prepare_data_inputs returns).

Without --wait, cwt prints the job id and returns once the server has accepted
the job; "cwt status JOB --wait" follows it later. With --wait it shows the
progress (a bar on a terminal, plain lines otherwise) and prints the outputs.`,
		Example: `  cwt execute CDAT.subset --var file:///data/sample/tas_day_2000.nc:tas \
      --domain 'time=2000-01-01:2000-01-31,lat=-30:30' --wait
  cwt execute CDAT.average --var /data/sample/tas_day_2000.nc:tas --param axes=time --wait --json
  cwt execute CDAT.aggregate --var /data/tas_day_2000.nc:tas --var /data/tas_day_2001.nc:tas \
      --domain 'time=2000-12-15:2001-01-15' --wait
  cwt execute CDAT.regrid --var /data/tas.nc:tas --gridder T42 --domain 'time=i0:1' --wait
  cwt execute CDAT.workflow --inputs workflow.json --wait --timeout 30m`,
		Args: exactArgs(1, "a process identifier such as CDAT.subset"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			var di cwt.DataInputs
			if inputsFile != "" {
				if len(vars) > 0 || domain != "" || len(params) > 0 || gridder != "" {
					return usagef("--inputs holds the whole request: do not combine it with --var, --domain, --param or --gridder")
				}
				var err error
				if di, err = readDataInputs(inputsFile, a.io.in); err != nil {
					return err
				}
			} else {
				p, err := buildProcess(id, vars, domain, params, gridder, gridMethod, gridTool)
				if err != nil {
					return err
				}
				if di, err = p.DataInputs(); err != nil {
					return usagef("%v", err)
				}
			}
			if dryRun {
				return a.printDryRun(id, di, asJSON)
			}
			c, err := a.client()
			if err != nil {
				return err
			}
			method := cwt.Post
			if useGet {
				method = cwt.Get
			}
			e, err := c.ExecuteDataInputs(cmd.Context(), id, di, method)
			if err != nil {
				return err
			}
			st := e.Status
			var waitErr error
			if wait {
				st, waitErr = a.follow(cmd.Context(), c, e, timeout)
			} else if st.State == cwt.Failed {
				waitErr = &cwt.JobFailedError{JobID: e.JobID, Status: st}
			}
			return a.printResult(e, st, waitErr, asJSON)
		},
	}
	f := cmd.Flags()
	f.StringArrayVar(&vars, "var", nil, "an input variable as URI:VAR (repeatable)")
	f.StringVar(&domain, "domain", "", "the domain, e.g. 'time=1980-01-01:1989-12-31,lat=-30:30,lev=i0:10'")
	f.StringArrayVar(&params, "param", nil, "a parameter as NAME=VALUE (repeatable)")
	f.StringVar(&gridder, "gridder", "", "regrid the result: T21, T42, T63, U1, U2, UHalf, UQuart, or a grid such as uniform~2x2 or gaussian~64")
	f.StringVar(&gridMethod, "gridder-method", "linear", "the regridding method (linear, conservative, nearest)")
	f.StringVar(&gridTool, "gridder-tool", "regrid2", "the regridding tool (regrid2, esmf, xesmf)")
	f.StringVar(&inputsFile, "inputs", "", "a JSON file (or - for stdin) with the variable, domain and operation lists")
	f.BoolVarP(&wait, "wait", "w", false, "wait for the job to end, showing its progress")
	f.DurationVar(&timeout, "timeout", 0, "with --wait, stop waiting after this long (e.g. 30m; exit code 5); 0 waits until the job ends")
	f.BoolVar(&asJSON, "json", false, "print one JSON object: job, status, percent, message, status_location, outputs[, error]")
	f.BoolVar(&useGet, "get", false, "send Execute as a GET with key-value pairs instead of a POSTed XML document")
	f.BoolVar(&dryRun, "dry-run", false, "print the request (the DataInputs JSON with --json) instead of sending it")
	return cmd
}

func buildProcess(id string, varFlags []string, domain string, paramFlags []string, gridder, method, tool string) (*cwt.Process, error) {
	if len(varFlags) == 0 {
		return nil, usagef("give at least one input with --var URI:VAR (or a whole request with --inputs FILE)")
	}
	p := cwt.NewProcess(id)
	for i, vf := range varFlags {
		uri, name, err := parseVar(vf)
		if err != nil {
			return nil, err
		}
		p.Inputs = append(p.Inputs, &cwt.Variable{URI: uri, Var: name, Name: "v" + strconv.Itoa(i)})
	}
	if domain != "" {
		dims, err := parseDomain(domain)
		if err != nil {
			return nil, err
		}
		p.Domain = &cwt.Domain{Name: "d0", Dims: dims}
	}
	ps, err := parseParams(paramFlags)
	if err != nil {
		return nil, err
	}
	p.Params = ps
	if gridder != "" {
		g, ok := gridderPresets[strings.ToLower(gridder)]
		if !ok {
			g = cwt.Gridder{Grid: gridder}
		}
		g.Method, g.Tool = method, tool
		p.Gridder = &g
	}
	return p, nil
}

func (a *app) printDryRun(id string, di cwt.DataInputs, asJSON bool) error {
	if asJSON {
		fmt.Fprintf(a.io.out, "{\"variable\": %s, \"domain\": %s, \"operation\": %s}\n", di.Variable, di.Domain, di.Operation)
		return nil
	}
	fmt.Fprintf(a.io.out, "identifier: %s\nvariable:   %s\ndomain:     %s\noperation:  %s\n", id, di.Variable, di.Domain, di.Operation)
	return nil
}

// follow waits for a job, showing its progress on stderr.
func (a *app) follow(ctx context.Context, c *cwt.Client, e *cwt.Execution, timeout time.Duration) (*cwt.Status, error) {
	label := "job"
	if e.JobID != "" {
		label = "job " + e.JobID
	}
	var pv *progressView
	if !a.quiet {
		pv = newProgress(a.io.err, isTerminal(a.io.err), label)
	}
	st, err := c.Wait(ctx, e, cwt.WaitOptions{Timeout: timeout, Progress: func(st *cwt.Status) {
		if pv != nil {
			pv.update(st)
		}
	}})
	if pv != nil {
		pv.finish()
	}
	if st == nil {
		st = e.Status
	}
	return st, err
}

// printResult prints a job's outcome and returns the error that sets the
// exit code.
func (a *app) printResult(e *cwt.Execution, st *cwt.Status, err error, asJSON bool) error {
	res := execResult{Process: e.Identifier, StatusLocation: e.StatusLocation, Outputs: []*cwt.Variable{}}
	if n, perr := strconv.ParseInt(e.JobID, 10, 64); perr == nil {
		res.Job = &n
	}
	if st != nil {
		res.Status, res.Percent, res.Message = st.State, st.Percent, st.Message
		if st.State == cwt.Succeeded {
			vs, verr := st.Variables()
			if verr != nil && err == nil {
				err = verr
			}
			if vs != nil {
				res.Outputs = vs
			}
		}
	}
	var jf *cwt.JobFailedError
	if errors.As(err, &jf) && st != nil && st.Exception != nil {
		res.Message = st.Exception.Text
	}
	if err != nil {
		res.Error = err.Error()
	}
	if asJSON {
		if perr := printJSON(a.io.out, res); perr != nil {
			return perr
		}
		return err
	}
	if err != nil && (st == nil || !errors.As(err, &jf)) {
		return err
	}
	w := a.io.out
	job := "The job"
	if e.JobID != "" {
		job = "Job " + e.JobID
	}
	switch {
	case st.State == cwt.Failed:
		return err // report prints the reason
	case st.State == cwt.Succeeded:
		fmt.Fprintf(w, "%s succeeded: %s\n", job, orDefault(st.Message, "done"))
		for _, v := range res.Outputs {
			fmt.Fprintf(w, "%s\t%s\n", v.ID(), v.URI)
		}
		if e.JobID != "" {
			fmt.Fprintf(a.io.err, "Download the output with: cwt download %s\n", e.JobID)
		}
	default:
		fmt.Fprintf(w, "%s accepted (%s): %s\n", job, e.Identifier, st)
		if e.JobID != "" {
			fmt.Fprintf(a.io.err, "Follow it with: cwt status %s --wait\n", e.JobID)
		} else {
			fmt.Fprintf(a.io.err, "Its status document: %s\n", e.StatusLocation)
		}
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
