// Package processes is the catalogue of processes the service offers and
// the executor that runs a validated workflow with the operators.
package processes

import (
	"fmt"
	"sort"
	"strings"

	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/workflow"
)

// Version is the processVersion of every process.
const Version = "1.0.0"

// Process is one entry of the catalogue.
type Process struct {
	workflow.ProcessSpec
	Title    string
	Abstract string // what it does; the inputs and parameters are appended
	// Build makes the lazy result of one operation from its inputs. Errors
	// caused by the request or the data should be *UserError or an ops error.
	Build func(c *Call, inputs []ops.Dataset) (ops.Dataset, error)
	// Grouped says the process consumes the groups of CDAT.groupby_bins
	// (the reductions); every other process refuses them.
	Grouped bool
	// OwnVariable says Build applies the "variable" parameter itself,
	// because it needs the other variables (a condition naming one); the
	// runner otherwise hands Build the chosen variable only.
	OwnVariable bool
}

// registry holds the processes; each registers itself from its own file.
var registry []*Process

func register(p *Process) { registry = append(registry, p) }

// Catalogue is the set of processes, looked up by identifier.
type Catalogue struct {
	byID map[string]*Process
	ids  []string
}

// Default is the catalogue this server runs: every registered process.
func Default() *Catalogue { return New(registry...) }

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
