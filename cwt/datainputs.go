package cwt

import (
	"errors"
	"fmt"
	"strings"
)

// DataInputs are the three JSON lists an Execute request carries.
type DataInputs struct {
	Variable  string `json:"variable"`
	Domain    string `json:"domain"`
	Operation string `json:"operation"`
}

// DataInputs encodes the workflow that ends in p exactly as the Python
// client does: every Variable at any depth, every Process with p first and
// the others in the order of the Python client's depth-first walk, and the
// domains the operations name. Unlike the Python client it also sends the
// domains that only a Variable names (the server needs them), and it
// refuses two different objects with one name instead of silently
// dropping one.
func (p *Process) DataInputs() (DataInputs, error) {
	if p == nil {
		return DataInputs{}, errors.New("no process")
	}
	ops, vars, err := collect(p)
	if err != nil {
		return DataInputs{}, err
	}
	var domains []*Domain
	seen := map[string]*Domain{}
	addDomain := func(d *Domain) error {
		if d == nil {
			return nil
		}
		if d.Name == "" {
			return errors.New("a domain has no name")
		}
		if prev, ok := seen[d.Name]; ok {
			if prev != d {
				return fmt.Errorf("two different domains are named %q", d.Name)
			}
			return nil
		}
		seen[d.Name] = d
		domains = append(domains, d)
		return nil
	}
	for _, op := range ops {
		if err := addDomain(op.Domain); err != nil {
			return DataInputs{}, err
		}
	}
	for _, v := range vars {
		if err := addDomain(v.Domain); err != nil {
			return DataInputs{}, err
		}
	}

	var out DataInputs
	varList := make([]any, len(vars))
	for i, v := range vars {
		varList[i] = v.object()
	}
	domList := make([]any, len(domains))
	for i, d := range domains {
		if domList[i], err = d.object(); err != nil {
			return DataInputs{}, err
		}
	}
	opList := make([]any, len(ops))
	for i, op := range ops {
		if opList[i], err = op.object(); err != nil {
			return DataInputs{}, err
		}
	}
	if out.Variable, err = pyDumps(varList); err != nil {
		return DataInputs{}, fmt.Errorf("variable: %w", err)
	}
	if out.Domain, err = pyDumps(domList); err != nil {
		return DataInputs{}, fmt.Errorf("domain: %w", err)
	}
	if out.Operation, err = pyDumps(opList); err != nil {
		return DataInputs{}, fmt.Errorf("operation: %w", err)
	}
	return out, nil
}

// collect walks the inputs as the Python client's collect_input_processes
// does (a stack, an operation pushed again while it waits unprocessed), so
// that the order of the lists is the same.
func collect(root *Process) ([]*Process, []*Variable, error) {
	var ops []*Process
	var vars []*Variable
	opIndex := map[string]*Process{}
	varIndex := map[string]*Variable{}
	stack := []*Process{root}
	for len(stack) > 0 {
		item := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if err := checkName("operation", item.Name); err != nil {
			return nil, nil, err
		}
		for _, in := range item.Inputs {
			switch x := in.(type) {
			case *Process:
				if x == nil {
					return nil, nil, fmt.Errorf("operation %q has a nil input", item.Name)
				}
				if _, done := opIndex[x.Name]; !done {
					stack = append(stack, x)
				}
			case *Variable:
				if x == nil {
					return nil, nil, fmt.Errorf("operation %q has a nil input", item.Name)
				}
				if err := checkName("variable", x.Name); err != nil {
					return nil, nil, err
				}
				if strings.Contains(x.Var, "|") || x.Var == "" {
					return nil, nil, fmt.Errorf("variable %q: the variable name %q must be non-empty and without \"|\"", x.Name, x.Var)
				}
				if prev, ok := varIndex[x.Name]; ok {
					if prev != x && *prev != *x {
						return nil, nil, fmt.Errorf("two different variables are named %q", x.Name)
					}
					continue
				}
				varIndex[x.Name] = x
				vars = append(vars, x)
			default:
				return nil, nil, fmt.Errorf("operation %q: input of type %T is neither a Variable nor a Process", item.Name, in)
			}
		}
		if prev, ok := opIndex[item.Name]; ok {
			if prev != item {
				return nil, nil, fmt.Errorf("two different operations are named %q", item.Name)
			}
			continue
		}
		if _, clash := varIndex[item.Name]; clash {
			return nil, nil, fmt.Errorf("operation %q has the name of a variable", item.Name)
		}
		opIndex[item.Name] = item
		ops = append(ops, item)
	}
	for _, v := range vars {
		if _, clash := opIndex[v.Name]; clash {
			return nil, nil, fmt.Errorf("variable %q has the name of an operation", v.Name)
		}
	}
	return ops, vars, nil
}

func checkName(kind, name string) error {
	if name == "" {
		return fmt.Errorf("a %s has no name", kind)
	}
	if strings.Contains(name, "|") {
		return fmt.Errorf("%s name %q contains \"|\"", kind, name)
	}
	return nil
}
