package workflow

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
)

// decodeList decodes a JSON array of objects, keeping numbers exact.
func decodeList(input, text string) ([]map[string]any, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, nil
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var raw any
	if err := dec.Decode(&raw); err != nil {
		return nil, errorf(input, "not valid JSON: %v", jsonError(err, text))
	}
	if dec.More() {
		return nil, errorf(input, "not valid JSON: unexpected data after the list")
	}
	var items []any
	switch v := raw.(type) {
	case []any:
		items = v
	case map[string]any: // a single object is taken as a list of one
		items = []any{v}
	case nil:
		return nil, nil
	default:
		return nil, errorf(input, "must be a JSON list of objects")
	}
	out := make([]map[string]any, 0, len(items))
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			return nil, errorf(input, "item %d must be a JSON object", i+1)
		}
		out = append(out, m)
	}
	return out, nil
}

func jsonError(err error, text string) string {
	if se, ok := err.(*json.SyntaxError); ok {
		return fmt.Sprintf("%s at byte %d", se.Error(), se.Offset)
	}
	return err.Error()
}

func str(m map[string]any, key string) (string, bool) {
	v, ok := m[key]
	if !ok || v == nil {
		return "", false
	}
	switch s := v.(type) {
	case string:
		return s, true
	case json.Number:
		return s.String(), true
	}
	return fmt.Sprint(v), true
}

func parseVariables(text string) (map[string]*Variable, error) {
	items, err := decodeList("variable", text)
	if err != nil {
		return nil, err
	}
	vars := map[string]*Variable{}
	for i, m := range items {
		uri, _ := str(m, "uri")
		id, ok := str(m, "id")
		if !ok {
			return nil, errorf("variable", "item %d has no \"id\" (\"<variable name>|<name>\")", i+1)
		}
		parts := strings.Split(id, "|")
		if len(parts) != 2 || parts[0] == "" || parts[1] == "" {
			return nil, errorf("variable", "id %q must be \"<variable name>|<name>\" with exactly one \"|\"", id)
		}
		if strings.TrimSpace(uri) == "" {
			return nil, errorf("variable", "variable %q has no \"uri\"", parts[1])
		}
		if _, dup := vars[parts[1]]; dup {
			return nil, errorf("variable", "two variables are named %q", parts[1])
		}
		v := &Variable{Name: parts[1], VarName: parts[0], URI: strings.TrimSpace(uri)}
		v.Domain, _ = str(m, "domain")
		v.MimeType, _ = str(m, "mime_type")
		vars[v.Name] = v
	}
	return vars, nil
}

func parseDomains(text string) (map[string]*Domain, error) {
	items, err := decodeList("domain", text)
	if err != nil {
		return nil, err
	}
	doms := map[string]*Domain{}
	for i, m := range items {
		id, ok := str(m, "id")
		if !ok || id == "" {
			return nil, errorf("domain", "item %d has no \"id\"", i+1)
		}
		if _, dup := doms[id]; dup {
			return nil, errorf("domain", "two domains are named %q", id)
		}
		d := &Domain{ID: id}
		if js, err := json.Marshal(m); err == nil {
			d.JSON = string(js)
		}
		for key, val := range m {
			switch key {
			case "id":
				continue
			case "mask":
				if val != nil {
					return nil, errorf("domain", "domain %q: masks are not supported by this server yet", id)
				}
				continue
			}
			obj, ok := val.(map[string]any)
			if !ok {
				return nil, errorf("domain", "domain %q: dimension %q must be an object with start, end, step and crs", id, key)
			}
			dim, err := parseDimension(id, key, obj)
			if err != nil {
				return nil, err
			}
			d.Dims = append(d.Dims, dim)
		}
		sort.Slice(d.Dims, func(a, b int) bool { return d.Dims[a].Name < d.Dims[b].Name })
		doms[id] = d
	}
	return doms, nil
}

func parseDimension(domain, name string, m map[string]any) (Dimension, error) {
	bad := func(format string, args ...any) (Dimension, error) {
		return Dimension{}, errorf("domain", "domain %q, dimension %q: %s", domain, name, fmt.Sprintf(format, args...))
	}
	crsText, ok := str(m, "crs")
	if !ok {
		return bad("\"crs\" is missing (indices, values or timestamps)")
	}
	crs := CRS(strings.ToLower(strings.TrimSpace(crsText)))
	switch crs {
	case Indices, Values, Timestamps:
	default:
		return bad("crs %q is not one of indices, values, timestamps", crsText)
	}
	d := Dimension{Name: name, CRS: crs, Step: 1}
	for _, key := range []string{"start", "end"} {
		raw, ok := m[key]
		if !ok || raw == nil {
			return bad("%q is missing", key)
		}
		v, err := parseValue(crs, raw)
		if err != nil {
			return bad("%s: %v", key, err)
		}
		if key == "start" {
			d.Start = v
		} else {
			d.End = v
		}
	}
	if raw, ok := m["step"]; ok && raw != nil {
		n, err := integer(raw)
		if err != nil || n < 1 {
			return bad("step must be a positive integer, got %v", raw)
		}
		d.Step = n
	}
	return d, nil
}

func parseValue(crs CRS, raw any) (Value, error) {
	switch crs {
	case Timestamps:
		s, ok := raw.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return Value{}, fmt.Errorf("a timestamp must be a string such as \"1980-01-01\", got %v", raw)
		}
		return Value{Str: strings.TrimSpace(s), IsStr: true}, nil
	case Indices:
		n, err := integer(raw)
		if err != nil {
			return Value{}, fmt.Errorf("an index must be an integer, got %v", raw)
		}
		return Value{Num: float64(n)}, nil
	default:
		f, err := number(raw)
		if err != nil {
			return Value{}, fmt.Errorf("a value must be a number, got %v", raw)
		}
		return Value{Num: f}, nil
	}
}

func number(raw any) (float64, error) {
	var s string
	switch v := raw.(type) {
	case json.Number:
		s = v.String()
	case string:
		s = strings.TrimSpace(v)
	default:
		return 0, fmt.Errorf("not a number")
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("not a number")
	}
	return f, nil
}

func integer(raw any) (int, error) {
	f, err := number(raw)
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, fmt.Errorf("not an integer")
	}
	return int(f), nil
}

func parseOperations(text string) ([]*Operation, error) {
	items, err := decodeList("operation", text)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, errorf("operation", "the list of operations is empty")
	}
	var ops []*Operation
	for i, m := range items {
		name, ok := str(m, "name")
		if !ok || name == "" {
			return nil, errorf("operation", "item %d has no \"name\" (the process identifier)", i+1)
		}
		result, ok := str(m, "result")
		if !ok || result == "" {
			return nil, errorf("operation", "operation %d (%s) has no \"result\" name", i+1, name)
		}
		op := &Operation{Identifier: name, Result: result, Params: map[string][]string{}}
		for key, val := range m {
			switch key {
			case "name", "result":
			case "input":
				ins, err := stringList(val)
				if err != nil {
					return nil, errorf("operation", "operation %q: \"input\" must be a list of names", result)
				}
				op.Inputs = ins
			case "domain":
				if val != nil {
					s, ok := val.(string)
					if !ok {
						return nil, errorf("operation", "operation %q: \"domain\" must be the name of a domain", result)
					}
					op.Domain = s
				}
			case "gridder":
				if val == nil {
					continue
				}
				g, ok := val.(map[string]any)
				if !ok {
					return nil, errorf("operation", "operation %q: \"gridder\" must be an object with tool, method and grid", result)
				}
				op.Gridder = &Gridder{}
				op.Gridder.Tool, _ = str(g, "tool")
				op.Gridder.Method, _ = str(g, "method")
				op.Gridder.Grid, _ = str(g, "grid")
			default:
				op.Params[key] = paramValues(val)
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

func stringList(v any) ([]string, error) {
	switch l := v.(type) {
	case nil:
		return nil, nil
	case string:
		return []string{l}, nil
	case []any:
		out := make([]string, 0, len(l))
		for _, it := range l {
			s, ok := it.(string)
			if !ok {
				return nil, fmt.Errorf("not a string")
			}
			out = append(out, s)
		}
		return out, nil
	}
	return nil, fmt.Errorf("not a list")
}

// paramValues splits a named parameter the way the client joins it: values
// separated by "|". Lists and numbers are accepted as well.
func paramValues(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return strings.Split(x, "|")
	case json.Number:
		return []string{x.String()}
	case bool:
		return []string{strconv.FormatBool(x)}
	case []any:
		var out []string
		for _, it := range x {
			out = append(out, paramValues(it)...)
		}
		return out
	}
	var buf bytes.Buffer
	_ = json.NewEncoder(&buf).Encode(v)
	return []string{strings.TrimSpace(buf.String())}
}

func checkParamValue(p ParamSpec, v string) error {
	switch p.Type {
	case "int":
		if _, err := strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return fmt.Errorf("%q is not an integer", v)
		}
	case "float":
		if _, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err != nil {
			return fmt.Errorf("%q is not a number", v)
		}
	}
	if len(p.Choices) > 0 && !contains(p.Choices, v) {
		return fmt.Errorf("%q is not one of %s", v, strings.Join(p.Choices, ", "))
	}
	if p.Check != nil {
		return p.Check(v)
	}
	return nil
}

func trimFloat(f float64) string {
	return strconv.FormatFloat(f, 'g', -1, 64)
}
