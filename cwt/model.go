package cwt

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// CRS says how a Dimension's start and end are read.
type CRS string

// The three CRS of the cwt protocol.
const (
	// Values are coordinate values, both ends included.
	Values CRS = "values"
	// Indices are zero-based positions, end excluded.
	Indices CRS = "indices"
	// Timestamps are dates in the variable's calendar, both ends included.
	Timestamps CRS = "timestamps"
)

// Dimension constrains one dimension of a Domain.
type Dimension struct {
	Name string
	// Start and End are int or float64 for Values, int for Indices, and
	// string for Timestamps.
	Start, End any
	Step       int // 0 means 1
	CRS        CRS
}

// ValueRange selects coordinate values from start to end, both included.
// Integers are sent as integers and floats as floats, as the Python client
// does with the numbers it is given.
func ValueRange[T int | float64](name string, start, end T) Dimension {
	return Dimension{Name: name, Start: start, End: end, CRS: Values}
}

// IndexRange selects positions start (included) to end (excluded).
func IndexRange(name string, start, end int) Dimension {
	return Dimension{Name: name, Start: start, End: end, CRS: Indices}
}

// TimeRange selects the dates from start to end, both included; a partial
// date ("1980-01") covers its whole period.
func TimeRange(name, start, end string) Dimension {
	return Dimension{Name: name, Start: start, End: end, CRS: Timestamps}
}

// Every returns d with a step.
func (d Dimension) Every(step int) Dimension {
	d.Step = step
	return d
}

func (d Dimension) object() (pyObject, error) {
	start, err := dimValue(d.Start)
	if err != nil {
		return nil, fmt.Errorf("dimension %q: start: %w", d.Name, err)
	}
	end, err := dimValue(d.End)
	if err != nil {
		return nil, fmt.Errorf("dimension %q: end: %w", d.Name, err)
	}
	step := d.Step
	if step == 0 {
		step = 1
	}
	if step < 0 {
		return nil, fmt.Errorf("dimension %q: step %d is negative", d.Name, step)
	}
	crs := d.CRS
	if crs == "" {
		crs = Values
	}
	return pyObject{{"start", start}, {"end", end}, {"step", step}, {"crs", string(crs)}}, nil
}

func dimValue(v any) (any, error) {
	switch x := v.(type) {
	case int, int64, float64, string:
		return x, nil
	case int32:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i, nil
		}
		return x.Float64()
	case nil:
		return nil, fmt.Errorf("missing")
	}
	return nil, fmt.Errorf("%v (%T) is not a number or a string", v, v)
}

// Mask restricts a Domain to where a condition on another variable holds.
type Mask struct {
	URI       string
	Var       string
	Operation string // e.g. "var_data>0.5"
	Name      string
}

func (m *Mask) object() pyObject {
	id := m.Var
	if m.Name != "" {
		id += "|" + m.Name
	}
	return pyObject{{"uri", m.URI}, {"id", id}, {"operation", m.Operation}}
}

// Domain is a named set of dimension constraints, optionally masked.
type Domain struct {
	Name string
	Dims []Dimension
	Mask *Mask
}

// NewDomain makes a domain with a random name.
func NewDomain(dims ...Dimension) *Domain {
	return &Domain{Name: randomName(), Dims: dims}
}

func (d *Domain) object() (pyObject, error) {
	o := pyObject{{"id", d.Name}}
	for _, dim := range d.Dims {
		if dim.Name == "" || dim.Name == "id" || dim.Name == "mask" {
			return nil, fmt.Errorf("domain %q: a dimension may not be called %q", d.Name, dim.Name)
		}
		v, err := dim.object()
		if err != nil {
			return nil, fmt.Errorf("domain %q: %w", d.Name, err)
		}
		o = o.set(dim.Name, v)
	}
	if d.Mask != nil {
		o = append(o, pyMember{"mask", d.Mask.object()})
	}
	return o, nil
}

// Variable is a variable in a NetCDF file or OPeNDAP dataset, and the form
// of a process output.
type Variable struct {
	URI      string
	Var      string // the variable's name in the file
	Name     string // its name in the request; NewVariable makes one up
	Domain   *Domain
	MimeType string
}

// NewVariable names the variable varName of the file or dataset at uri.
func NewVariable(uri, varName string) *Variable {
	return &Variable{URI: uri, Var: varName, Name: randomName()}
}

// ID is the "var|name" form of the protocol.
func (v *Variable) ID() string { return v.Var + "|" + v.Name }

func (v *Variable) inputName() string { return v.Name }

func (v *Variable) object() pyObject {
	o := pyObject{{"uri", v.URI}, {"id", v.ID()}}
	if v.Domain != nil {
		o = append(o, pyMember{"domain", v.Domain.Name})
	}
	if v.MimeType != "" {
		o = append(o, pyMember{"mime_type", v.MimeType})
	}
	return o
}

// MarshalJSON writes the variable as the protocol does: {"uri", "id"}.
func (v *Variable) MarshalJSON() ([]byte, error) {
	s, err := pyDumps(v.object())
	return []byte(s), err
}

// UnmarshalJSON reads {"uri": …, "id": "var|name"}; the domain, when
// given, is known by name only.
func (v *Variable) UnmarshalJSON(b []byte) error {
	var raw struct {
		URI      string `json:"uri"`
		ID       string `json:"id"`
		Domain   string `json:"domain"`
		MimeType string `json:"mime_type"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if raw.URI == "" {
		return fmt.Errorf("a variable needs a \"uri\"")
	}
	varName, name, ok := strings.Cut(raw.ID, "|")
	if !ok || strings.Contains(name, "|") {
		return fmt.Errorf("variable id %q is not \"<variable>|<name>\"", raw.ID)
	}
	*v = Variable{URI: raw.URI, Var: varName, Name: name, MimeType: raw.MimeType}
	if raw.Domain != "" {
		v.Domain = &Domain{Name: raw.Domain}
	}
	return nil
}

// Gridder regrids an operation's result.
type Gridder struct {
	Tool   string // regrid2 (the default), esmf or xesmf
	Method string // linear, conservative, nearest...
	// Grid is "uniform~DLATxDLON", "gaussian~NLAT", "T42", or the name of a
	// variable or domain of the request.
	Grid string
}

// The Python client's gridder presets.
var (
	T21    = Gridder{Tool: "regrid2", Method: "linear", Grid: "gaussian~32"}
	T42    = Gridder{Tool: "regrid2", Method: "linear", Grid: "gaussian~64"}
	T63    = Gridder{Tool: "regrid2", Method: "linear", Grid: "gaussian~96"}
	UQuart = Gridder{Tool: "regrid2", Method: "linear", Grid: "uniform~.25x.25"}
	UHalf  = Gridder{Tool: "regrid2", Method: "linear", Grid: "uniform~.5x.5"}
	U1     = Gridder{Tool: "regrid2", Method: "linear", Grid: "uniform~1x1"}
	U2     = Gridder{Tool: "regrid2", Method: "linear", Grid: "uniform~2x2"}
)

func (g *Gridder) object() pyObject {
	return pyObject{{"tool", g.Tool}, {"method", g.Method}, {"grid", g.Grid}}
}

// Input is what a Process consumes: a *Variable or another *Process.
type Input interface {
	inputName() string
}

// Param is a named parameter; its values are sent joined with "|".
type Param struct {
	Name   string
	Values []string
}

// Process is one operation of a request. Processes given as inputs of
// another form a workflow, sent in one Execute.
type Process struct {
	Identifier string // e.g. "CDAT.subset"
	Name       string // the name of its result; NewProcess makes one up
	Inputs     []Input
	Domain     *Domain
	Gridder    *Gridder
	Params     []Param
}

// NewProcess makes an operation of the process identifier on inputs.
func NewProcess(identifier string, inputs ...Input) *Process {
	return &Process{Identifier: identifier, Name: randomName(), Inputs: inputs}
}

func (p *Process) inputName() string { return p.Name }

// SetParam sets a parameter, replacing one of the same name in place.
// Values are written as Python's str() writes them (0.5, "inf", True), so
// that lists give "lat|lon" as in the Python client.
func (p *Process) SetParam(name string, values ...any) *Process {
	strs := make([]string, len(values))
	for i, v := range values {
		strs[i] = pyStr(v)
	}
	for i := range p.Params {
		if p.Params[i].Name == name {
			p.Params[i].Values = strs
			return p
		}
	}
	p.Params = append(p.Params, Param{Name: name, Values: strs})
	return p
}

// Param returns a parameter's values joined with "|".
func (p *Process) Param(name string) (string, bool) {
	for _, pr := range p.Params {
		if pr.Name == name {
			return strings.Join(pr.Values, "|"), true
		}
	}
	return "", false
}

// reserved are the keys of an operation object that a parameter would
// overwrite.
var reserved = map[string]bool{"name": true, "result": true, "domain": true, "input": true, "gridder": true}

func (p *Process) object() (pyObject, error) {
	o := pyObject{{"name", p.Identifier}, {"result", p.Name}}
	if p.Domain != nil {
		o = append(o, pyMember{"domain", p.Domain.Name})
	}
	in := make([]string, len(p.Inputs))
	for i, x := range p.Inputs {
		if x == nil || isNilInput(x) {
			return nil, fmt.Errorf("operation %q: input %d is nil", p.Name, i+1)
		}
		in[i] = x.inputName()
	}
	o = append(o, pyMember{"input", in})
	if p.Gridder != nil {
		o = append(o, pyMember{"gridder", p.Gridder.object()})
	}
	for _, pr := range p.Params {
		if reserved[pr.Name] {
			return nil, fmt.Errorf("operation %q: a parameter may not be called %q", p.Name, pr.Name)
		}
		o = o.set(pr.Name, strings.Join(pr.Values, "|"))
	}
	return o, nil
}

func isNilInput(x Input) bool {
	switch v := x.(type) {
	case *Variable:
		return v == nil
	case *Process:
		return v == nil
	}
	return false
}

// randomName is what the Python client uses for unnamed objects: eight
// hexadecimal characters.
func randomName() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
