package wps

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// parseDataInputs reads the KVP DataInputs value, already percent-decoded:
//
//	name=<JSON>[@attr=value...];name=<JSON>...
//
// optionally wrapped in "[" "]" (the LLNL form). Each value is one complete
// JSON value, so ";", "=", "@" and "&" inside it are data, not separators.
// The "@mimeType=..." suffixes of the standard WPS 1.0.0 form are read only
// after a complete JSON value.
func parseDataInputs(s string) ([]Input, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return nil, nil
	}
	// base turns offsets in t into 1-based byte positions in s for messages.
	base := strings.Index(s, t) + 1
	if t[0] == '[' {
		if t[len(t)-1] != ']' {
			return nil, Errorf(InvalidParameterValue, "datainputs", "DataInputs starts with [ but does not end with ]")
		}
		t = t[1 : len(t)-1]
		base++
	}
	var inputs []Input
	for pos := skipSpace(t, 0); pos < len(t); pos = skipSpace(t, pos) {
		eq := strings.IndexByte(t[pos:], '=')
		name := ""
		if eq >= 0 {
			name = strings.TrimSpace(t[pos : pos+eq])
		}
		if name == "" || strings.ContainsAny(name, ";@[]{}\"") {
			return nil, Errorf(InvalidParameterValue, "datainputs",
				"malformed DataInputs at byte %d: expected name=value, with values separated by ;", base+pos)
		}
		in := Input{Identifier: strings.ToLower(name)}
		start := pos + eq + 1
		value, n, err := decodeJSONValue(t[start:])
		if err != nil {
			return nil, Errorf(InvalidParameterValue, in.Identifier, "the value of input %s is %s", quote(in.Identifier), err)
		}
		in.Value = value
		pos = skipSpace(t, start+n)

		for pos < len(t) && t[pos] == '@' {
			end := len(t)
			if i := strings.IndexAny(t[pos+1:], "@;"); i >= 0 {
				end = pos + 1 + i
			}
			k, v, ok := strings.Cut(t[pos+1:end], "=")
			if !ok {
				return nil, Errorf(InvalidParameterValue, in.Identifier,
					"malformed attribute after the value of input %s: expected @name=value", quote(in.Identifier))
			}
			if strings.EqualFold(strings.TrimSpace(k), "mimeType") {
				in.MimeType = strings.TrimSpace(v)
			}
			pos = end
		}
		inputs = append(inputs, in)

		if pos < len(t) {
			if t[pos] != ';' {
				return nil, Errorf(InvalidParameterValue, in.Identifier,
					"unexpected %s after the JSON value of input %s (byte %d of DataInputs); separate inputs with ;",
					quote(string(t[pos])), quote(in.Identifier), base+pos)
			}
			pos++
		}
	}
	return inputs, nil
}

// jsonError explains why a DataInputs value is not JSON; it completes the
// sentence "the value of input X is ...".
type jsonError string

func (e jsonError) Error() string { return string(e) }

// decodeJSONValue reads one JSON value at the start of s and returns its text
// and the number of bytes it spans (leading space included). The decoder's
// input offset tells where the value ends, whatever follows it.
func decodeJSONValue(s string) (string, int, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	var raw json.RawMessage
	err := dec.Decode(&raw)
	var syn *json.SyntaxError
	switch {
	case err == nil:
	case errors.As(err, &syn):
		msg := fmt.Sprintf("not valid JSON: %s (at byte %d of the value)", syn.Error(), syn.Offset)
		return "", 0, jsonError(msg + plusHint(s[:min(int(syn.Offset), len(s))]))
	case errors.Is(err, io.EOF):
		return "", 0, jsonError("empty: a JSON value is required")
	case errors.Is(err, io.ErrUnexpectedEOF):
		msg := fmt.Sprintf("not valid JSON: it ends at byte %d before the value is complete", len(s))
		return "", 0, jsonError(msg + plusHint(s))
	default:
		return "", 0, jsonError("not valid JSON")
	}
	n := int(dec.InputOffset())
	if !utf8.Valid(raw) {
		return "", 0, jsonError("not valid UTF-8")
	}
	return string(raw), n, nil
}

// plusHint explains the likely cause when a "+" precedes a JSON error: form
// encoders send spaces as "+", which DataInputs keeps literally.
func plusHint(prefix string) string {
	if strings.Contains(prefix, "+") {
		return `; note that "+" in DataInputs is not read as a space: encode spaces as %20`
	}
	return ""
}

func skipSpace(s string, i int) int {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	return i
}
