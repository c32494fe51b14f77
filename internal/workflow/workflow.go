// Package workflow turns the variable, domain and operation inputs of an
// Execute request (the JSON the cwt client sends) into a validated DAG of
// operations. Everything that can be checked without reading data is checked
// here, so a bad request is answered at once instead of failing in a worker.
package workflow

import (
	"fmt"
	"sort"
	"strings"

	"github.com/computewps/computewps/internal/regrid"
)

// Container is the identifier of the process that only groups other
// operations: its inputs become the outputs of the request.
const Container = "CDAT.workflow"

// CRS says how a dimension's start and end are interpreted.
type CRS string

const (
	Indices    CRS = "indices"    // zero-based positions, end exclusive
	Values     CRS = "values"     // coordinate values, both ends inclusive
	Timestamps CRS = "timestamps" // dates in the variable's calendar, both ends inclusive
)

// Variable is one input: a variable in a NetCDF file or OPeNDAP dataset.
type Variable struct {
	Name     string // node name used by operations ("v0")
	VarName  string // variable in the file ("tas")
	URI      string
	Domain   string // optional domain name; used when an operation has none
	MimeType string
}

// Value is a start or end of a dimension: a number or a string.
type Value struct {
	Num   float64
	Str   string
	IsStr bool
}

func (v Value) String() string {
	if v.IsStr {
		return v.Str
	}
	return trimFloat(v.Num)
}

// Dimension is one constraint of a domain.
type Dimension struct {
	Name       string
	Start, End Value
	Step       int
	CRS        CRS
}

// Domain constrains the dimensions of the data an operation reads.
type Domain struct {
	ID   string
	Dims []Dimension // sorted by name
	JSON string      // the domain as sent, for provenance
}

// Gridder asks for the result to be regridded.
type Gridder struct {
	Tool, Method, Grid string
}

// Operation is one node of the DAG.
type Operation struct {
	Identifier string // process, e.g. CDAT.subset
	Result     string // node name
	Inputs     []string
	Domain     string
	Gridder    *Gridder
	Params     map[string][]string // named parameters, values split on "|"
}

// Param returns the first value of a parameter and whether it was given.
func (o *Operation) Param(name string) (string, bool) {
	v, ok := o.Params[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// Workflow is a validated request: its nodes, a topological order and the
// operations whose results are the outputs.
type Workflow struct {
	Identifier string
	Variables  map[string]*Variable
	Domains    map[string]*Domain
	Operations map[string]*Operation
	Order      []*Operation // every operation, inputs before the operations that use them
	Outputs    []*Operation // the operations whose results are returned, in Order
}

// Error is a problem with the request, reported against one of its inputs.
type Error struct {
	Input string // "variable", "domain" or "operation"
	Text  string
}

func (e *Error) Error() string { return e.Input + ": " + e.Text }

func errorf(input, format string, args ...any) *Error {
	return &Error{Input: input, Text: fmt.Sprintf(format, args...)}
}

// ParamSpec describes a named parameter a process accepts.
type ParamSpec struct {
	Name     string
	Type     string // "str", "int", "float", "list"
	Help     string
	Choices  []string // allowed values, if restricted
	Min, Max int      // number of values; Max < 0 means unbounded
	// Check, if set, validates each value without data (a condition's
	// grammar), so a bad request is refused at once.
	Check func(string) error
}

// ProcessSpec is what validation needs to know about a process.
type ProcessSpec struct {
	Identifier           string
	MinInputs, MaxInputs int // MaxInputs < 0 means unbounded
	Params               []ParamSpec
	SameVariable         bool // every input must carry the same variable (aggregate)
}

// Catalogue looks processes up by identifier.
type Catalogue interface {
	Spec(identifier string) (ProcessSpec, bool)
	Identifiers() []string
}

// Parse decodes the three JSON inputs and validates the DAG for the process
// named by identifier.
func Parse(identifier, variableJSON, domainJSON, operationJSON string, cat Catalogue) (*Workflow, error) {
	vars, err := parseVariables(variableJSON)
	if err != nil {
		return nil, err
	}
	doms, err := parseDomains(domainJSON)
	if err != nil {
		return nil, err
	}
	opList, err := parseOperations(operationJSON)
	if err != nil {
		return nil, err
	}
	w := &Workflow{Identifier: identifier, Variables: vars, Domains: doms, Operations: map[string]*Operation{}}
	for _, op := range opList {
		if _, dup := w.Operations[op.Result]; dup {
			return nil, errorf("operation", "two operations have the result name %q", op.Result)
		}
		if _, clash := vars[op.Result]; clash {
			return nil, errorf("operation", "operation result %q has the same name as a variable", op.Result)
		}
		w.Operations[op.Result] = op
	}
	if err := w.resolve(identifier, cat); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *Workflow) resolve(identifier string, cat Catalogue) error {
	if _, ok := cat.Spec(identifier); !ok {
		return errorf("operation", "unknown process %q; known processes: %s", identifier, strings.Join(cat.Identifiers(), ", "))
	}
	var root *Operation
	for _, op := range w.sortedOps() {
		if op.Identifier == identifier {
			root = op
			break
		}
	}
	if root == nil {
		return errorf("operation", "no operation named %q in the operation input; the process executed must be one of the operations", identifier)
	}
	for _, op := range w.sortedOps() {
		if _, ok := cat.Spec(op.Identifier); !ok {
			return errorf("operation", "operation %q: unknown process %q; known processes: %s", op.Result, op.Identifier, strings.Join(cat.Identifiers(), ", "))
		}
		if op.Domain != "" {
			if _, ok := w.Domains[op.Domain]; !ok {
				return errorf("operation", "operation %q: domain %q is not in the domain input", op.Result, op.Domain)
			}
		}
		for _, in := range op.Inputs {
			_, isVar := w.Variables[in]
			_, isOp := w.Operations[in]
			if !isVar && !isOp {
				return errorf("operation", "operation %q: input %q is neither a variable nor the result of an operation", op.Result, in)
			}
			if in == op.Result {
				return errorf("operation", "operation %q uses its own result as input", op.Result)
			}
		}
	}
	for name, v := range w.Variables {
		if v.Domain != "" {
			if _, ok := w.Domains[v.Domain]; !ok {
				return errorf("variable", "variable %q: domain %q is not in the domain input", name, v.Domain)
			}
		}
	}
	if err := w.sort(); err != nil {
		return err
	}
	// The container lends its domain and parameters to the operations it
	// holds and disappears; its inputs become the outputs.
	if root.Identifier == Container {
		for _, op := range w.Order {
			if op == root {
				continue
			}
			if op.Domain == "" {
				op.Domain = root.Domain
			}
			for k, v := range root.Params {
				if _, ok := op.Params[k]; !ok {
					op.Params[k] = v
				}
			}
		}
		for _, in := range root.Inputs {
			op, ok := w.Operations[in]
			if !ok {
				return errorf("operation", "%s %q: input %q must be an operation, not a variable", Container, root.Result, in)
			}
			// The container's gridder regrids its outputs that have none.
			if op.Gridder == nil {
				op.Gridder = root.Gridder
			}
		}
		delete(w.Operations, root.Result)
		w.Order = remove(w.Order, root)
		for _, op := range w.Order {
			if op.Identifier == Container {
				return errorf("operation", "only one %s operation is allowed", Container)
			}
		}
		if len(root.Inputs) == 0 {
			return errorf("operation", "%s %q has no inputs", Container, root.Result)
		}
	}
	for _, op := range w.Order {
		spec, _ := cat.Spec(op.Identifier)
		if err := w.validateOp(op, spec); err != nil {
			return err
		}
	}
	// Every operation nothing else consumes is an output.
	used := map[string]bool{}
	for _, op := range w.Order {
		for _, in := range op.Inputs {
			used[in] = true
		}
	}
	for _, op := range w.Order {
		if !used[op.Result] {
			w.Outputs = append(w.Outputs, op)
		}
	}
	return nil
}

func remove(ops []*Operation, x *Operation) []*Operation {
	out := ops[:0]
	for _, op := range ops {
		if op != x {
			out = append(out, op)
		}
	}
	return out
}

func (w *Workflow) sortedOps() []*Operation {
	names := make([]string, 0, len(w.Operations))
	for n := range w.Operations {
		names = append(names, n)
	}
	sort.Strings(names)
	ops := make([]*Operation, len(names))
	for i, n := range names {
		ops[i] = w.Operations[n]
	}
	return ops
}

// sort orders the operations topologically and reports a cycle by its path.
func (w *Workflow) sort() error {
	const (
		unvisited = iota
		visiting
		done
	)
	state := map[string]int{}
	var order []*Operation
	var visit func(op *Operation, path []string) error
	visit = func(op *Operation, path []string) error {
		switch state[op.Result] {
		case done:
			return nil
		case visiting:
			return errorf("operation", "the operations form a cycle: %s", strings.Join(append(path, op.Result), " -> "))
		}
		state[op.Result] = visiting
		for _, in := range op.Inputs {
			if dep, ok := w.Operations[in]; ok {
				if err := visit(dep, append(path, op.Result)); err != nil {
					return err
				}
			}
		}
		state[op.Result] = done
		order = append(order, op)
		return nil
	}
	for _, op := range w.sortedOps() {
		if err := visit(op, nil); err != nil {
			return err
		}
	}
	w.Order = order
	return nil
}

// VarNames returns the variable names that reach a node, for checking the
// "variable" parameter and the inputs of aggregate.
func (w *Workflow) VarNames(node string) []string {
	if v, ok := w.Variables[node]; ok {
		return []string{v.VarName}
	}
	op, ok := w.Operations[node]
	if !ok {
		return nil
	}
	names := w.inputVarNames(op)
	if v, ok := op.Param("variable"); ok && contains(names, v) {
		names = []string{v}
	}
	if pairs, ok := op.Params["rename"]; ok {
		for i := 0; i+1 < len(pairs); i += 2 {
			for j, n := range names {
				if n == pairs[i] {
					names[j] = pairs[i+1]
				}
			}
		}
	}
	return names
}

func (w *Workflow) validateOp(op *Operation, spec ProcessSpec) error {
	n := len(op.Inputs)
	if n < spec.MinInputs || (spec.MaxInputs >= 0 && n > spec.MaxInputs) {
		want := fmt.Sprintf("%d", spec.MinInputs)
		switch {
		case spec.MaxInputs < 0:
			want = fmt.Sprintf("at least %d", spec.MinInputs)
		case spec.MaxInputs != spec.MinInputs:
			want = fmt.Sprintf("%d to %d", spec.MinInputs, spec.MaxInputs)
		}
		return errorf("operation", "operation %q (%s) takes %s input(s), got %d", op.Result, op.Identifier, want, n)
	}
	if op.Identifier == "CDAT.regrid" && op.Gridder == nil {
		return errorf("operation", "%s (%s): a gridder is required: {\"tool\": \"esmf\", \"method\": \"linear\", \"grid\": \"T42\"}", op.Identifier, op.Result)
	}
	if g := op.Gridder; g != nil {
		where := fmt.Sprintf("%s (%s)", op.Identifier, op.Result)
		if _, err := regrid.MethodOf(g.Tool, g.Method); err != nil {
			return errorf("operation", "%s: %v", where, err)
		}
		// A domain or variable of the request names its grid; the cwt
		// client sends one used only as a grid by name alone, without it.
		if d, ok := w.Domains[g.Grid]; ok {
			rs := make([]regrid.Range, len(d.Dims))
			for i, dim := range d.Dims {
				rs[i] = regrid.Range{Name: dim.Name, Start: dim.Start.Num, End: dim.End.Num, Step: float64(dim.Step), Values: dim.CRS == Values}
			}
			if _, err := regrid.FromDomain(rs); err != nil {
				return errorf("operation", "%s: domain '%s' is not a valid target grid: %v", where, g.Grid, err)
			}
		} else if _, ok := w.Variables[g.Grid]; !ok {
			if _, err := regrid.ParseGrid(g.Grid); err != nil {
				return errorf("operation", "%s: target grid '%s' is not valid: %v", where, g.Grid, err)
			}
		}
	}
	for _, p := range spec.Params {
		vals, ok := op.Params[p.Name]
		if !ok {
			continue
		}
		if len(vals) < p.Min || (p.Max >= 0 && len(vals) > p.Max) {
			return errorf("operation", "operation %q: parameter %q takes %s value(s), got %d", op.Result, p.Name, countRange(p.Min, p.Max), len(vals))
		}
		for _, v := range vals {
			if err := checkParamValue(p, v); err != nil {
				return errorf("operation", "operation %q: parameter %q: %v", op.Result, p.Name, err)
			}
		}
		if p.Name == "variable" {
			have := w.inputVarNames(op)
			if !contains(have, vals[0]) {
				return errorf("operation", "operation %q: variable %q is not in its input; found %s", op.Result, vals[0], strings.Join(have, ", "))
			}
		}
		if p.Name == "rename" && len(vals)%2 != 0 {
			return errorf("operation", "operation %q: parameter \"rename\" takes pairs old|new, got %d value(s)", op.Result, len(vals))
		}
	}
	if spec.SameVariable {
		names := w.inputVarNames(op)
		if len(names) != 1 {
			return errorf("operation", "operation %q (%s): every input must hold the same variable, got %s", op.Result, op.Identifier, strings.Join(names, ", "))
		}
	}
	return nil
}

func (w *Workflow) inputVarNames(op *Operation) []string {
	seen := map[string]bool{}
	var names []string
	for _, in := range op.Inputs {
		for _, n := range w.VarNames(in) {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	return names
}

func countRange(min, max int) string {
	switch {
	case max < 0:
		return fmt.Sprintf("at least %d", min)
	case min == max:
		return fmt.Sprintf("%d", min)
	}
	return fmt.Sprintf("%d to %d", min, max)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// DomainOf returns the domain that applies to an operation, or nil. (The
// client may also name a domain on a Variable; like the reference service,
// only the operation's domain selects data.)
func (w *Workflow) DomainOf(op *Operation) *Domain {
	if op.Domain != "" {
		return w.Domains[op.Domain]
	}
	return nil
}
