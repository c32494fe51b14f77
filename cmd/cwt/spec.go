package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/computewps/computewps/cwt"
)

// parseVar reads --var URI:VAR. The variable is after the last colon, so
// URLs with a scheme or a port work; a local path is made an absolute
// file:// URL (for a server on this computer).
func parseVar(s string) (uri, varName string, err error) {
	i := strings.LastIndexByte(s, ':')
	if i <= 0 || i == len(s)-1 || strings.ContainsAny(s[i+1:], "/|") {
		return "", "", usagef("--var %q: give the file and the variable as URI:VAR, e.g. --var file:///data/tas.nc:tas", s)
	}
	uri, varName = strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+1:])
	if !strings.Contains(uri, "://") {
		abs, err := filepath.Abs(uri)
		if err != nil {
			return "", "", usagef("--var %q: %v", s, err)
		}
		uri = "file://" + abs
	}
	return uri, varName, nil
}

// parseDomain reads --domain 'time=1980-01-01:1989-12-31,lat=-30:30,lev=i0:10'.
//
// Each dimension is NAME=START:END[:STEP] or NAME=VALUE (START = END). Two
// numbers are coordinate values; anything else is read as timestamps; an
// "i" before the start asks for indices (zero-based, end excluded). When a
// date contains ":" (a time of day), separate start and end with "..".
func parseDomain(s string) ([]cwt.Dimension, error) {
	var dims []cwt.Dimension
	seen := map[string]bool{}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, spec, ok := strings.Cut(part, "=")
		name, spec = strings.TrimSpace(name), strings.TrimSpace(spec)
		if !ok || name == "" || spec == "" {
			return nil, usagef("--domain: %q is not NAME=START:END (e.g. lat=-30:30)", part)
		}
		if name == "id" || name == "mask" {
			return nil, usagef("--domain: a dimension cannot be called %q", name)
		}
		if seen[name] {
			return nil, usagef("--domain: dimension %q is given twice", name)
		}
		seen[name] = true
		d, err := parseDimension(name, spec)
		if err != nil {
			return nil, err
		}
		dims = append(dims, d)
	}
	if len(dims) == 0 {
		return nil, usagef("--domain %q names no dimension", s)
	}
	return dims, nil
}

func parseDimension(name, spec string) (cwt.Dimension, error) {
	bad := func(format string, args ...any) (cwt.Dimension, error) {
		return cwt.Dimension{}, usagef("--domain %s=%s: %s", name, spec, fmt.Sprintf(format, args...))
	}
	indices := false
	if rest, ok := strings.CutPrefix(spec, "i"); ok && rest != "" && (rest[0] == '-' || rest[0] >= '0' && rest[0] <= '9') {
		indices, spec = true, rest
	}
	var parts []string
	if strings.Contains(spec, "..") {
		parts = strings.Split(spec, "..")
	} else {
		parts = strings.Split(spec, ":")
	}
	if len(parts) > 3 {
		return bad("too many parts; when a date has a time of day, write START..END (e.g. time=2000-01-01T06:00..2000-01-02)")
	}
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
		if parts[i] == "" {
			return bad("a start, end or step is empty")
		}
	}
	if len(parts) == 1 {
		parts = append(parts, parts[0])
	}
	step := 0
	if len(parts) == 3 {
		n, err := strconv.Atoi(parts[2])
		if err != nil || n < 1 {
			return bad("the step %q must be a positive integer", parts[2])
		}
		step = n
	}
	if indices {
		a, err1 := strconv.Atoi(parts[0])
		b, err2 := strconv.Atoi(strings.TrimPrefix(parts[1], "i"))
		if err1 != nil || err2 != nil {
			return bad("indices must be integers, e.g. %s=i0:10", name)
		}
		return cwt.IndexRange(name, a, b).Every(step), nil
	}
	start, ok1 := number(parts[0])
	end, ok2 := number(parts[1])
	if ok1 && ok2 {
		return cwt.Dimension{Name: name, Start: start, End: end, Step: step, CRS: cwt.Values}, nil
	}
	return cwt.TimeRange(name, parts[0], parts[1]).Every(step), nil
}

// number reads an integer as int and anything else numeric as float64, so
// that "30" is sent as 30 and "30.5" as 30.5.
func number(s string) (any, bool) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || strings.ContainsAny(s, "nN") { // not NaN, Inf or "infinity"
		return nil, false
	}
	return f, true
}

// parseParams reads --param NAME=VALUE flags; a repeated name adds values,
// which are sent joined with "|" (axes=lat --param axes=lon is "lat|lon").
func parseParams(flags []string) ([]cwt.Param, error) {
	var out []cwt.Param
	for _, f := range flags {
		name, value, ok := strings.Cut(f, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return nil, usagef("--param %q is not NAME=VALUE (e.g. --param axes=time)", f)
		}
		found := false
		for i := range out {
			if out[i].Name == name {
				out[i].Values = append(out[i].Values, value)
				found = true
			}
		}
		if !found {
			out = append(out, cwt.Param{Name: name, Values: []string{value}})
		}
	}
	return out, nil
}

// gridderPresets are the Python client's names.
var gridderPresets = map[string]cwt.Gridder{
	"t21": cwt.T21, "t42": cwt.T42, "t63": cwt.T63,
	"uquart": cwt.UQuart, "uhalf": cwt.UHalf, "u1": cwt.U1, "u2": cwt.U2,
}

// readDataInputs reads --inputs FILE: {"variable": [...], "domain": [...],
// "operation": [...]}, the job API's "datainputs" and what the Python
// client's prepare_data_inputs returns.
func readDataInputs(path string, stdin io.Reader) (cwt.DataInputs, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(stdin)
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return cwt.DataInputs{}, usagef("--inputs: %v", err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return cwt.DataInputs{}, usagef("--inputs %s is not a JSON object with variable, domain and operation lists: %v", path, err)
	}
	get := func(key string) (string, error) {
		raw, ok := m[key]
		if !ok {
			return "[]", nil
		}
		// Each list may also be given as the JSON text of the list.
		var s string
		if json.Unmarshal(raw, &s) == nil {
			raw = json.RawMessage(s)
		}
		var list []json.RawMessage
		if err := json.Unmarshal(raw, &list); err != nil {
			return "", usagef("--inputs %s: %q must be a list", path, key)
		}
		return string(raw), nil
	}
	var di cwt.DataInputs
	if di.Variable, err = get("variable"); err != nil {
		return di, err
	}
	if di.Domain, err = get("domain"); err != nil {
		return di, err
	}
	if di.Operation, err = get("operation"); err != nil {
		return di, err
	}
	if di.Operation == "[]" {
		return di, usagef("--inputs %s has no operation", path)
	}
	return di, nil
}
