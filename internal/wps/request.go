package wps

import "strings"

// Request is a parsed WPS request, from KVP (GET) or XML (POST).
type Request struct {
	Operation   string   // "GetCapabilities", "DescribeProcess" or "Execute" (canonical case)
	Identifiers []string // DescribeProcess: one or more (comma-separated in KVP); "ALL" kept as given
	Execute     *ExecuteRequest
}

// ExecuteRequest is the content of an Execute request.
type ExecuteRequest struct {
	Identifier string
	Inputs     []Input // in request order; identifiers lower-cased
	// ResponseForm: Given is false when the request had none (the cwt client
	// never sends one: treat as asynchronous).
	ResponseForm ResponseForm
}

// Input is one Execute input, passed by value.
type Input struct {
	Identifier string
	Value      string // the ComplexData text (JSON) or LiteralData text
	MimeType   string
}

// ResponseForm is what the client asked for in wps:ResponseForm (XML) or
// ResponseDocument / RawDataOutput / storeExecuteResponse / status (KVP).
type ResponseForm struct {
	Given                bool
	StoreExecuteResponse bool
	Status               bool
	RawOutput            bool   // RawDataOutput rather than ResponseDocument
	OutputIdentifier     string // the first output requested, if any
}

// Input returns the input named id, ignoring case; the last one wins when an
// input is repeated.
func (r *ExecuteRequest) Input(id string) (Input, bool) {
	id = strings.ToLower(id)
	for i := len(r.Inputs) - 1; i >= 0; i-- {
		if r.Inputs[i].Identifier == id {
			return r.Inputs[i], true
		}
	}
	return Input{}, false
}

// Async reports whether the job should run in the background with a status
// location: when no ResponseForm was given (the cwt client's case, which
// works best asynchronously) or when it asked for status updates.
func (r *ExecuteRequest) Async() bool {
	return !r.ResponseForm.Given || r.ResponseForm.Status
}

// DataInputs returns the raw JSON of the variable, domain and operation
// inputs ("[]" for absent ones).
func (r *ExecuteRequest) DataInputs() (variable, domain, operation string) {
	get := func(id string) string {
		if in, ok := r.Input(id); ok {
			return in.Value
		}
		return "[]"
	}
	return get("variable"), get("domain"), get("operation")
}
