package processes

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
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
	r := &runner{cat: c, w: w, env: env, arrays: map[string]ops.Array{}, open: map[string]*cf.Dataset{}}
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
	arrays map[string]ops.Array
	open   map[string]*cf.Dataset
	last   int
}

func (r *runner) close() {
	for _, ds := range r.open {
		ds.Close()
	}
}

func (r *runner) progress(pct int, msg string) {
	if r.env.Progress != nil {
		r.env.Progress(pct, msg)
	}
}

func (r *runner) run(ctx context.Context) ([]Result, error) {
	r.progress(0, "Validating workflow")
	for _, op := range r.w.Order {
		a, err := r.build(ctx, op)
		if err != nil {
			return nil, fmt.Errorf("operation %q (%s): %w", op.Result, op.Identifier, err)
		}
		r.arrays[op.Result] = a
	}
	if err := os.MkdirAll(r.env.OutDir, 0o750); err != nil {
		return nil, err
	}
	var total, before int64
	for _, op := range r.w.Outputs {
		total += r.arrays[op.Result].Meta().Size()
	}
	var results []Result
	for _, op := range r.w.Outputs {
		a := r.arrays[op.Result]
		name := fmt.Sprintf("%s_%s_%s.nc", op.Identifier, safeName(op.Result), randomHex(4))
		path := filepath.Join(r.env.OutDir, name)
		r.progress(r.percent(before, total), "Writing "+name)
		size, err := ops.Write(ctx, path, a, ops.WriteOptions{
			SlabBytes: r.env.SlabBytes,
			Deflate:   1,
			Global:    r.provenance(op, a),
			History:   fmt.Sprintf("%s ComputeWPS %s: %s", time.Now().UTC().Format(time.RFC3339), r.env.Version, op.Identifier),
			Progress: func(done, _ int64) {
				if p := r.percent(before+done, total); p != r.last {
					r.last = p
					r.progress(p, "Processing")
				}
			},
		})
		if err != nil {
			return results, fmt.Errorf("operation %q (%s): %w", op.Result, op.Identifier, err)
		}
		before += a.Meta().Size()
		results = append(results, Result{Op: op.Result, Name: name, Path: path, Size: size, VarID: a.Meta().Name + "|" + op.Result})
	}
	return results, nil
}

func (r *runner) percent(done, total int64) int {
	if total <= 0 {
		return 0
	}
	return int(min(99, 100*done/total))
}

func (r *runner) input(ctx context.Context, name string) (ops.Array, error) {
	if a, ok := r.arrays[name]; ok {
		return a, nil
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
		if ds, err = cf.Open(path); err != nil {
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
	r.arrays[name] = a
	return a, nil
}

func (r *runner) build(ctx context.Context, op *workflow.Operation) (ops.Array, error) {
	var inputs []ops.Array
	for _, in := range op.Inputs {
		a, err := r.input(ctx, in)
		if err != nil {
			return nil, err
		}
		inputs = append(inputs, a)
	}
	p, ok := r.cat.Lookup(op.Identifier)
	if !ok || p.Build == nil {
		return nil, fmt.Errorf("process %s has no implementation", op.Identifier)
	}
	return p.Build(&Call{r: r, Op: op}, inputs)
}

// Call is what a process's Build gets besides its inputs.
type Call struct {
	r  *runner
	Op *workflow.Operation
}

// Subset applies the operation's domain, if it has one, to a. A process
// calls it where the domain belongs: on its inputs before a reduction, on
// the joined result for aggregate.
func (c *Call) Subset(a ops.Array) (ops.Array, error) {
	d := c.r.w.DomainOf(c.Op)
	if d == nil {
		return a, nil
	}
	method, _ := c.Op.Param("method")
	return ops.Subset(a, d.Dims, method, func(msg string) { c.r.progress(0, msg) })
}

// Progress reports a message while the workflow is being built.
func (c *Call) Progress(msg string) { c.r.progress(0, msg) }

func (r *runner) provenance(op *workflow.Operation, a ops.Array) []netcdf.Attr {
	attrs := []netcdf.Attr{
		{Name: "provenance.wps_identifier", Value: r.w.Identifier},
		{Name: "provenance.wps_server", Value: r.env.Server},
		{Name: "computewps_version", Value: r.env.Version},
		{Name: "computewps_process", Value: op.Identifier},
		{Name: "computewps_inputs", Value: strings.Join(a.Meta().Sources, " ")},
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
