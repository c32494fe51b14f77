package processes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

// Env is what a run needs from its surroundings.
type Env struct {
	Access    *Access
	OutDir    string // directory for this job's outputs; created if missing
	SlabBytes int64
	// MaxReadBytes refuses a run whose inputs, as the request selects them,
	// are larger; 0 means no limit.
	MaxReadBytes int64
	// TempDir holds downloaded copies of plain HTTP(S) inputs during a run.
	TempDir string
	// Provenance recorded in every output.
	Server   string // the WPS endpoint URL
	Version  string // ComputeWPS version
	Document string // the Execute request as received
	// Progress receives the percent done and a message; may be nil.
	Progress func(percent int, message string)
}

// Result is one output file.
type Result struct {
	Op    string // the operation's result name
	Name  string // file name
	Path  string // absolute path
	Size  int64
	VarID string // "<variable>|<result name>"
}

// UserError is a failure caused by the request or its data (a missing file,
// an empty selection); its text is safe and useful to show the user.
type UserError struct{ Text string }

func (e *UserError) Error() string { return e.Text }

// Run executes a validated workflow and writes its outputs.
func (c *Catalogue) Run(ctx context.Context, w *workflow.Workflow, env Env) ([]Result, error) {
	r := &runner{cat: c, w: w, env: env, values: map[string]ops.Dataset{}, open: map[string]*cf.Dataset{}}
	defer r.close()
	results, err := r.run(ctx)
	if err != nil {
		for _, res := range results {
			os.Remove(res.Path)
		}
		return nil, userFacing(err)
	}
	return results, nil
}

type runner struct {
	cat    *Catalogue
	w      *workflow.Workflow
	env    Env
	values map[string]ops.Dataset // results of variables and operations, by node name
	open   map[string]*cf.Dataset
	fetch  *fetcher // downloads of plain HTTP inputs, made when first needed
	last   int
}

func (r *runner) close() {
	for _, ds := range r.open {
		ds.Close()
	}
	if r.fetch != nil {
		r.fetch.close()
	}
}

// openInput opens a local file, or a remote URL as an OPeNDAP dataset and,
// failing that, as a plain NetCDF file downloaded over HTTP(S).
// "#mode=bytes" asks for the download directly.
func (r *runner) openInput(ctx context.Context, path string) (*cf.Dataset, error) {
	if !strings.HasPrefix(path, "http://") && !strings.HasPrefix(path, "https://") {
		return cf.Open(path)
	}
	url, fragment, _ := strings.Cut(path, "#")
	var dapErr error
	if !strings.Contains(fragment, "mode=bytes") {
		ds, err := cf.Open(url)
		if err == nil {
			return ds, nil
		}
		dapErr = err
	}
	if r.fetch == nil {
		dir := r.env.TempDir
		if dir == "" {
			dir = os.TempDir()
		}
		r.fetch = newFetcher(dir, r.env.MaxReadBytes)
	}
	local, err := r.fetch.fetch(ctx, url)
	if err != nil {
		if dapErr != nil && strings.Contains(err.Error(), "neither an OPeNDAP dataset") {
			return nil, fmt.Errorf("%v (as OPeNDAP: %v)", err, dapErr)
		}
		return nil, err
	}
	return cf.Open(local)
}

func (r *runner) progress(pct int, msg string) {
	if r.env.Progress != nil {
		r.env.Progress(pct, msg)
	}
}

func (r *runner) run(ctx context.Context) ([]Result, error) {
	r.progress(0, "Validating workflow")
	for _, op := range r.w.Order {
		ds, err := r.build(ctx, op)
		if err != nil {
			return nil, fmt.Errorf("%s (%s): %w", op.Identifier, op.Result, err)
		}
		if len(ds) == 0 {
			return nil, fmt.Errorf("%s (%s) produced no variable", op.Identifier, op.Result)
		}
		r.values[op.Result] = ds
	}
	if est := r.estimateRead(); r.env.MaxReadBytes > 0 && est > r.env.MaxReadBytes {
		return nil, &UserError{Text: fmt.Sprintf("%s: this request would read about %s from its inputs, more than this server's limit of %s per job; narrow the domain or split the request",
			r.w.Identifier, humanBytes(est), humanBytes(r.env.MaxReadBytes))}
	}
	if err := os.MkdirAll(r.env.OutDir, 0o750); err != nil {
		return nil, err
	}
	var total, before int64
	for _, op := range r.w.Outputs {
		total += size(r.values[op.Result])
	}
	var results []Result
	for _, op := range r.w.Outputs {
		ds := r.values[op.Result]
		name := fmt.Sprintf("%s_%s_%s.nc", op.Identifier, safeName(op.Result), randomHex(4))
		path := filepath.Join(r.env.OutDir, name)
		r.progress(r.percent(before, total), "Writing "+name)
		n, err := ops.Write(ctx, path, ds, ops.WriteOptions{
			SlabBytes: r.env.SlabBytes,
			Deflate:   1,
			Global:    r.provenance(op, ds),
			History:   fmt.Sprintf("%s ComputeWPS %s: %s", time.Now().UTC().Format(time.RFC3339), r.env.Version, op.Identifier),
			Progress: func(done, _ int64) {
				if p := r.percent(before+done, total); p != r.last {
					r.last = p
					r.progress(p, "Processing")
				}
			},
		})
		if err != nil {
			return results, fmt.Errorf("%s (%s): %w", op.Identifier, op.Result, err)
		}
		before += size(ds)
		results = append(results, Result{Op: op.Result, Name: name, Path: path, Size: n, VarID: ds[0].Meta().Name + "|" + op.Result})
	}
	return results, nil
}

// estimateRead is the bytes the run will read from its input files: each
// input variable as selected by the domain of the operation that reads it
// (its whole size where no domain applies). It uses only metadata.
func (r *runner) estimateRead() int64 {
	var total int64
	for name := range r.w.Variables {
		ds, ok := r.values[name]
		if !ok {
			continue
		}
		a := ds[0]
		est := bytesOf(a)
		for _, op := range r.w.Order {
			if !contains(op.Inputs, name) {
				continue
			}
			if d := r.w.DomainOf(op); d != nil && op.Identifier != "CDAT.aggregate" {
				if sub, err := ops.Subset(a, d.Dims, "nearest", nil); err == nil {
					est = bytesOf(sub)
				}
			}
			break
		}
		total += est
	}
	return total
}

func bytesOf(a ops.Array) int64 {
	m := a.Meta()
	n := m.Type.Size()
	if n <= 0 {
		n = 8
	}
	return m.Size() * int64(n)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<40:
		return fmt.Sprintf("%.1f TiB", float64(n)/(1<<40))
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	}
	return fmt.Sprintf("%d bytes", n)
}

func size(ds ops.Dataset) int64 {
	var n int64
	for _, a := range ds {
		n += a.Meta().Size()
	}
	return n
}

func (r *runner) percent(done, total int64) int {
	if total <= 0 {
		return 0
	}
	return int(min(99, 100*done/total))
}

func (r *runner) input(ctx context.Context, name string) (ops.Dataset, error) {
	if ds, ok := r.values[name]; ok {
		return ds, nil
	}
	v, ok := r.w.Variables[name]
	if !ok {
		return nil, fmt.Errorf("input %q not found", name)
	}
	path, err := r.env.Access.Resolve(v.URI)
	if err != nil {
		return nil, err
	}
	ds, ok := r.open[path]
	if !ok {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if ds, err = r.openInput(ctx, path); err != nil {
			if netcdf.IsNotFound(err) {
				return nil, &UserError{Text: fmt.Sprintf("input %q: no such file or dataset", v.URI)}
			}
			return nil, &UserError{Text: fmt.Sprintf("input %q could not be opened: %v", v.URI, err)}
		}
		ds.URI = v.URI // messages name the input as the user wrote it
		r.open[path] = ds
	}
	a, err := ops.FromDataset(ds, v.VarName)
	if err != nil {
		return nil, &UserError{Text: err.Error()}
	}
	r.values[name] = ops.Dataset{a}
	return r.values[name], nil
}

func (r *runner) build(ctx context.Context, op *workflow.Operation) (ops.Dataset, error) {
	var inputs []ops.Dataset
	for _, in := range op.Inputs {
		ds, err := r.input(ctx, in)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, ds)
	}
	p, ok := r.cat.Lookup(op.Identifier)
	if !ok || p.Build == nil {
		return nil, fmt.Errorf("process %s has no implementation", op.Identifier)
	}
	if !p.Grouped {
		for i, ds := range inputs {
			for _, a := range ds {
				if _, _, grouped := ops.Ungroup(a); grouped {
					return nil, &UserError{Text: fmt.Sprintf("input %q is the result of CDAT.groupby_bins, which only a reduction (mean, max, std, filter_map, ...) can consume", op.Inputs[i])}
				}
			}
		}
	}
	c := &Call{r: r, ctx: ctx, Op: op}
	// "variable" picks the one variable the process computes on; the others
	// are carried through unchanged.
	var passed ops.Dataset
	if name, ok := op.Param("variable"); ok && !p.OwnVariable {
		for i, ds := range inputs {
			var keep ops.Dataset
			for _, a := range ds {
				if a.Meta().Name == name {
					keep = append(keep, a)
				} else if i == 0 {
					passed = append(passed, a)
				}
			}
			if len(keep) == 0 {
				return nil, &UserError{Text: fmt.Sprintf("variable %q is not in input %q", name, op.Inputs[i])}
			}
			inputs[i] = keep
		}
	}
	out, err := p.Build(c, inputs)
	if err != nil {
		return nil, err
	}
	out = append(out, passed...)
	// The gridder regrids every variable of the result, the ones carried
	// through included, so they stay on one grid.
	if op.Gridder != nil {
		if applyGridder == nil {
			return nil, &UserError{Text: "regridding is not supported by this server"}
		}
		if out, err = applyGridder(c, out, op.Gridder); err != nil {
			return nil, err
		}
	}
	return common(op, out)
}

// applyGridder regrids the result of an operation that has a gridder; the
// regridding code sets it.
var applyGridder func(c *Call, ds ops.Dataset, g *workflow.Gridder) (ops.Dataset, error)

// common applies the parameters every process takes to its result:
// fillna (a number for missing values) and rename (old|new pairs).
func common(op *workflow.Operation, ds ops.Dataset) (ops.Dataset, error) {
	if v, ok := op.Param("fillna"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if err != nil {
			return nil, &UserError{Text: fmt.Sprintf("fillna must be a number, got %q", v)}
		}
		for i, a := range ds {
			ds[i] = ops.FillNA(a, f)
		}
	}
	pairs := op.Params["rename"]
	for k := 0; k+1 < len(pairs); k += 2 {
		found := false
		for i, a := range ds {
			if a.Meta().Name == pairs[k] {
				ds[i] = ops.Rename(a, pairs[k+1])
				found = true
			}
		}
		if !found {
			return nil, &UserError{Text: fmt.Sprintf("rename: variable %q is not in the result", pairs[k])}
		}
	}
	return ds, nil
}

// Call is what a process's Build gets besides its inputs.
type Call struct {
	r   *runner
	ctx context.Context
	Op  *workflow.Operation
}

// Context is the run's context: it ends when the job is cancelled.
func (c *Call) Context() context.Context { return c.ctx }

// Subset applies the operation's domain, if it has one, to every variable
// of ds. A process calls it where the domain belongs: on its inputs before
// a reduction, on the joined result for aggregate.
func (c *Call) Subset(ds ops.Dataset) (ops.Dataset, error) {
	d := c.r.w.DomainOf(c.Op)
	if d == nil {
		return ds, nil
	}
	method, _ := c.Op.Param("method")
	out := make(ops.Dataset, len(ds))
	for i, a := range ds {
		s, err := ops.Subset(a, d.Dims, method, func(msg string) { c.r.progress(0, msg) })
		if err != nil {
			return nil, err
		}
		out[i] = s
	}
	return out, nil
}

// Progress reports a message while the workflow is being built.
func (c *Call) Progress(msg string) { c.r.progress(0, msg) }

func (r *runner) provenance(op *workflow.Operation, ds ops.Dataset) []netcdf.Attr {
	var sources []string
	for _, a := range ds {
		sources = append(sources, a.Meta().Sources...)
	}
	attrs := []netcdf.Attr{
		{Name: "provenance.wps_identifier", Value: r.w.Identifier},
		{Name: "provenance.wps_server", Value: r.env.Server},
		{Name: "computewps_version", Value: r.env.Version},
		{Name: "computewps_process", Value: op.Identifier},
		{Name: "computewps_inputs", Value: strings.Join(unique(sources), " ")},
	}
	if d := r.w.DomainOf(op); d != nil {
		attrs = append(attrs, netcdf.Attr{Name: "computewps_domain", Value: d.JSON})
	}
	if r.env.Document != "" {
		attrs = append(attrs, netcdf.Attr{Name: "provenance.wps_document", Value: r.env.Document})
	}
	return attrs
}

// userFacing keeps errors meant for the user and hides the rest behind a
// message that still says which operation failed.
func userFacing(err error) error {
	var ue *UserError
	var se *ops.SubsetError
	var ae *AccessError
	var ne *netcdf.Error
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.As(err, &ue), errors.As(err, &se), errors.As(err, &ae), errors.As(err, &ne):
		return &UserError{Text: err.Error()}
	}
	return err
}

func unique(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return r
		}
		return '_'
	}, s)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
