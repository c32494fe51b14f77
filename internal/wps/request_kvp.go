package wps

import (
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ParseKVP parses the query string of a GET request. Parameter names are
// case-insensitive and the last of a repeated parameter wins. Errors are
// *Exception with the lower-cased parameter name as locator.
//
// Values are percent-decoded as in a form ("+" is a space), except DataInputs:
// there "+" is kept as "+" and only %XX is decoded, because its JSON may hold
// "1e+5" or "+05:00" and the cwt client sends "+" unencoded. The query is
// split on "&" only, never on ";", which separates the DataInputs entries.
func ParseKVP(rawQuery string) (*Request, error) {
	p, err := parseQuery(rawQuery)
	if err != nil {
		return nil, err
	}
	op, ok := p.value("request")
	if !ok {
		return nil, Errorf(MissingParameterValue, "request", "the parameter request is required")
	}
	service, ok := p.value("service")
	if !ok {
		return nil, Errorf(MissingParameterValue, "service", "the parameter service is required")
	}
	if !strings.EqualFold(service, "WPS") {
		return nil, Errorf(InvalidParameterValue, "service", "service must be WPS, not %s", quote(service))
	}

	switch strings.ToLower(op) {
	case "getcapabilities":
		if v, ok := p["acceptversions"]; ok && !acceptsVersion(strings.Split(v, ",")) {
			return nil, Errorf(VersionNegotiationFailed, "acceptversions",
				"none of the versions %s is supported; this server speaks WPS %s", quote(v), Version)
		}
		return &Request{Operation: opGetCapabilities}, nil

	case "describeprocess":
		if err := checkVersion(p["version"], "version"); err != nil {
			return nil, err
		}
		var ids []string
		for id := range strings.SplitSeq(p["identifier"], ",") {
			if id = strings.TrimSpace(id); id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, Errorf(MissingParameterValue, "identifier", "the parameter identifier is required")
		}
		return &Request{Operation: opDescribeProcess, Identifiers: ids}, nil

	case "execute":
		if err := checkVersion(p["version"], "version"); err != nil {
			return nil, err
		}
		ex, err := parseExecuteKVP(p)
		if err != nil {
			return nil, err
		}
		return &Request{Operation: opExecute, Execute: ex}, nil
	}
	return nil, Errorf(OperationNotSupported, "request", "the operation %s is not supported", quote(op))
}

// kvp maps lower-cased parameter names to decoded values.
type kvp map[string]string

// value returns a parameter that is present and not blank.
func (p kvp) value(name string) (string, bool) {
	v := strings.TrimSpace(p[name])
	return v, v != ""
}

func parseQuery(raw string) (kvp, error) {
	p := kvp{}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			return nil, Errorf(InvalidParameterValue, "", "a parameter name is not correctly percent-encoded").WithCause(err)
		}
		key = strings.ToLower(strings.TrimSpace(key))
		var val string
		if key == "datainputs" {
			val, err = url.PathUnescape(v)
		} else {
			val, err = url.QueryUnescape(v)
		}
		if err != nil {
			return nil, Errorf(InvalidParameterValue, key, "the value of %s is not correctly percent-encoded", key).WithCause(err)
		}
		p[key] = val
	}
	return p, nil
}

func parseExecuteKVP(p kvp) (*ExecuteRequest, error) {
	id, ok := p.value("identifier")
	if !ok {
		return nil, Errorf(MissingParameterValue, "identifier", "the parameter identifier is required")
	}
	ex := &ExecuteRequest{Identifier: id}
	if di, ok := p["datainputs"]; ok {
		inputs, err := parseDataInputs(di)
		if err != nil {
			return nil, err
		}
		ex.Inputs = inputs
	}

	rf := &ex.ResponseForm
	doc, hasDoc := p["responsedocument"]
	raw, hasRaw := p["rawdataoutput"]
	switch {
	case hasDoc && hasRaw:
		return nil, Errorf(InvalidParameterValue, "rawdataoutput", "ResponseDocument and RawDataOutput cannot be used together")
	case hasDoc:
		rf.Given = true
		rf.OutputIdentifier = firstOutput(doc)
	case hasRaw:
		rf.Given, rf.RawOutput = true, true
		rf.OutputIdentifier = firstOutput(raw)
	}
	for _, f := range []struct {
		name string
		dst  *bool
	}{{"storeexecuteresponse", &rf.StoreExecuteResponse}, {"status", &rf.Status}} {
		v, ok := p[f.name]
		if !ok {
			continue
		}
		b, err := parseBool(v, f.name)
		if err != nil {
			return nil, err
		}
		rf.Given, *f.dst = true, b
	}
	return ex, nil
}

// firstOutput returns the identifier of the first output in a KVP
// ResponseDocument or RawDataOutput: "id@attr=v@...;id2...".
func firstOutput(s string) string {
	s, _, _ = strings.Cut(s, ";")
	s, _, _ = strings.Cut(s, "@")
	return strings.TrimSpace(s)
}

// parseBool reads an xs:boolean, also accepting the KVP spelling TRUE/FALSE.
func parseBool(v, locator string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, Errorf(InvalidParameterValue, locator, "%s must be true or false, not %s", locator, quote(v))
}

func checkVersion(v, locator string) error {
	if v = strings.TrimSpace(v); v != "" && v != Version {
		return Errorf(VersionNegotiationFailed, locator, "version %s is not supported; this server speaks WPS %s", quote(v), Version)
	}
	return nil
}

func acceptsVersion(versions []string) bool {
	for _, v := range versions {
		if strings.TrimSpace(v) == Version {
			return true
		}
	}
	return false
}

// quote shows a client-supplied value in a message: quoted, with control
// characters escaped, and cut short so an error never echoes a whole payload.
func quote(s string) string {
	const limit = 64
	if utf8.RuneCountInString(s) > limit {
		s = string([]rune(s)[:limit]) + "…"
	}
	return strconv.Quote(s)
}
