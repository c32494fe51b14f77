// Package processes is the catalogue of processes the service offers and
// the executor that runs a validated workflow with the operators.
package processes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/computewps/computewps/internal/workflow"
)

// Version is the processVersion of every process.
const Version = "1.0.0"

// Process is one entry of the catalogue.
type Process struct {
	workflow.ProcessSpec
	Title    string
	Abstract string // what it does; the inputs and parameters are appended
}

// Catalogue is the set of processes, looked up by identifier.
type Catalogue struct {
	byID map[string]*Process
	ids  []string
}

var commonParams = []workflow.ParamSpec{
	{Name: "variable", Type: "str", Min: 1, Max: 1, Help: "Name of the variable to compute on, when an input holds several."},
}

// Default is the catalogue this server runs.
func Default() *Catalogue {
	return New(
		&Process{
			ProcessSpec: workflow.ProcessSpec{
				Identifier: "CDAT.subset", MinInputs: 1, MaxInputs: 1,
				Params: append([]workflow.ParamSpec{
					{Name: "method", Type: "str", Min: 1, Max: 1, Choices: []string{"nearest", "pad", "backfill"},
						Help: "How a single value (start equal to end) that is not on a coordinate is matched: nearest, pad (the point before) or backfill (the point after)."},
				}, commonParams...),
			},
			Title: "Subset",
			Abstract: "Selects a region of a variable with the operation's domain. Each dimension of the domain is given in " +
				"indices (zero-based, end exclusive), values (coordinate values, both ends inclusive) or timestamps " +
				"(dates such as 1980-01 or 1980-01-15T12:00 in the variable's calendar, both ends inclusive, a partial date " +
				"covering its whole month or year). Equal start and end select one point. Longitude ranges may cross the " +
				"0/360 or -180/180 seam. Dimensions may be named as in the file or by axis (lat, latitude, lon, longitude, time, lev).",
		},
		&Process{
			ProcessSpec: workflow.ProcessSpec{
				Identifier: "CDAT.aggregate", MinInputs: 1, MaxInputs: -1, SameVariable: true,
			},
			Title: "Aggregate",
			Abstract: "Joins inputs that hold the same variable split along time (one file per year, say) into one, in time " +
				"order. The inputs must agree on the other dimensions, the units and the calendar, and must not overlap in " +
				"time. A domain, if given, subsets the joined result.",
		},
		&Process{
			ProcessSpec: workflow.ProcessSpec{Identifier: workflow.Container, MinInputs: 1, MaxInputs: -1},
			Title:       "Workflow",
			Abstract: "Groups operations so that one request returns several results: each input of the workflow is an " +
				"output. Its domain applies to the operations that have none, and its parameters to those that lack them.",
		},
	)
}

// New builds a catalogue.
func New(procs ...*Process) *Catalogue {
	c := &Catalogue{byID: map[string]*Process{}}
	for _, p := range procs {
		c.byID[p.Identifier] = p
		c.ids = append(c.ids, p.Identifier)
	}
	sort.Strings(c.ids)
	return c
}

// Spec implements workflow.Catalogue.
func (c *Catalogue) Spec(id string) (workflow.ProcessSpec, bool) {
	p, ok := c.byID[id]
	if !ok {
		return workflow.ProcessSpec{}, false
	}
	return p.ProcessSpec, true
}

// Identifiers implements workflow.Catalogue.
func (c *Catalogue) Identifiers() []string { return c.ids }

// Lookup returns a process.
func (c *Catalogue) Lookup(id string) (*Process, bool) {
	p, ok := c.byID[id]
	return p, ok
}

// All returns every process, sorted by identifier.
func (c *Catalogue) All() []*Process {
	out := make([]*Process, len(c.ids))
	for i, id := range c.ids {
		out[i] = c.byID[id]
	}
	return out
}

// FullAbstract is the abstract followed by the inputs and parameters, as
// the cwt client shows it to users.
func (p *Process) FullAbstract() string {
	var b strings.Builder
	b.WriteString(p.Abstract)
	b.WriteString("\n\n")
	switch {
	case p.MaxInputs < 0:
		fmt.Fprintf(&b, "Accepts a minimum of %d input(s).", p.MinInputs)
	case p.MinInputs == p.MaxInputs:
		fmt.Fprintf(&b, "Accepts exactly %d input.", p.MinInputs)
	default:
		fmt.Fprintf(&b, "Accepts %d to %d inputs.", p.MinInputs, p.MaxInputs)
	}
	if len(p.Params) > 0 {
		b.WriteString("\n\nParameters:")
		for _, prm := range p.Params {
			fmt.Fprintf(&b, "\n    %s (%s): %s", prm.Name, prm.Type, prm.Help)
		}
	}
	return b.String()
}
