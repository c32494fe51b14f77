package cwt

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// State is a WPS process state.
type State string

// The WPS 1.0.0 process states.
const (
	Accepted  State = "ProcessAccepted"
	Started   State = "ProcessStarted"
	Paused    State = "ProcessPaused"
	Succeeded State = "ProcessSucceeded"
	Failed    State = "ProcessFailed"
)

// Done reports whether the state is final.
func (s State) Done() bool { return s == Succeeded || s == Failed }

// Status is one reading of an ExecuteResponse.
type Status struct {
	Identifier string
	State      State
	Message    string
	Percent    int
	Created    time.Time
	Exception  *ServerError // why it failed, when State is Failed
	Outputs    []Output     // when State is Succeeded
}

// Output is one process output as the ExecuteResponse carries it.
type Output struct {
	Identifier string
	MimeType   string
	Data       string // inline ComplexData or LiteralData text
	Reference  string // the URL of an output sent by reference
}

// Variables parses the output as the Python client does: a Variable
// object, or a list of them.
func (o Output) Variables() ([]*Variable, error) {
	data := strings.TrimSpace(o.Data)
	if data == "" {
		return nil, fmt.Errorf("output %q has no inline data", o.Identifier)
	}
	if strings.HasPrefix(data, "[") {
		var vs []*Variable
		if err := json.Unmarshal([]byte(data), &vs); err != nil {
			return nil, fmt.Errorf("output %q is not a list of variables: %w", o.Identifier, err)
		}
		return vs, nil
	}
	v := new(Variable)
	if err := json.Unmarshal([]byte(data), v); err != nil {
		return nil, fmt.Errorf("output %q is not a variable: %w", o.Identifier, err)
	}
	return []*Variable{v}, nil
}

// Variables returns the variables of every output.
func (s *Status) Variables() ([]*Variable, error) {
	var all []*Variable
	for _, o := range s.Outputs {
		vs, err := o.Variables()
		if err != nil {
			return nil, err
		}
		all = append(all, vs...)
	}
	return all, nil
}

func (s *Status) String() string {
	out := string(s.State)
	if s.State == Started || s.State == Paused {
		out += fmt.Sprintf(" %d%%", s.Percent)
	}
	msg := s.Message
	if s.Exception != nil && s.Exception.Text != "" {
		msg = s.Exception.Text
	}
	if msg != "" {
		out += " " + msg
	}
	return out
}

// Execution is a submitted Execute request.
type Execution struct {
	Identifier     string
	StatusLocation string // where the status is polled; empty for a synchronous answer
	JobID          string // the job API's id, from the status location
	Status         *Status
}

var jobIDPattern = regexp.MustCompile(`/job/([0-9]+)(?:\.wps)?/?$`)

func jobIDOf(statusLocation string) string {
	u, err := url.Parse(statusLocation)
	if err != nil {
		return ""
	}
	if m := jobIDPattern.FindStringSubmatch(u.Path); m != nil {
		return m[1]
	}
	return ""
}

// ProcessInfo is a process as GetCapabilities lists it.
type ProcessInfo struct {
	Identifier string `json:"identifier"`
	Title      string `json:"title"`
	Abstract   string `json:"abstract"`
	Version    string `json:"version"`
}

// Capabilities is the service and its processes.
type Capabilities struct {
	Title     string
	Abstract  string
	Processes []ProcessInfo
}

// Capabilities sends GetCapabilities.
func (c *Client) Capabilities(ctx context.Context) (*Capabilities, error) {
	body, err := c.getWPS(ctx, url.Values{"service": {"WPS"}, "request": {"GetCapabilities"}, "version": {"1.0.0"}})
	if err != nil {
		return nil, err
	}
	var doc capabilitiesXML
	if err := decodeXML(body, &doc); err != nil || rootName(body) != "Capabilities" {
		return nil, fmt.Errorf("the GetCapabilities answer is not a Capabilities document")
	}
	caps := &Capabilities{Title: strings.TrimSpace(doc.Title), Abstract: strings.TrimSpace(doc.Abstract)}
	for _, p := range doc.Processes {
		caps.Processes = append(caps.Processes, p.info())
	}
	return caps, nil
}

func (p processXML) info() ProcessInfo {
	return ProcessInfo{Identifier: strings.TrimSpace(p.ID), Title: strings.TrimSpace(p.Title),
		Abstract: strings.TrimSpace(p.Abstract), Version: strings.TrimSpace(p.Version)}
}

// Processes lists the processes whose identifier the regular expression
// pattern matches anywhere ("" for all).
func (c *Client) Processes(ctx context.Context, pattern string) ([]ProcessInfo, error) {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return nil, fmt.Errorf("filter %q is not a regular expression: %w", pattern, err)
	}
	caps, err := c.Capabilities(ctx)
	if err != nil {
		return nil, err
	}
	var out []ProcessInfo
	for _, p := range caps.Processes {
		if re.MatchString(p.Identifier) {
			out = append(out, p)
		}
	}
	return out, nil
}

// Description is a process as DescribeProcess describes it.
type Description struct {
	ProcessInfo
	StatusSupported bool `json:"status_supported"`
	StoreSupported  bool `json:"store_supported"`
	Inputs          []IO `json:"inputs"`
	Outputs         []IO `json:"outputs"`
}

// IO is one input or output of a process.
type IO struct {
	Identifier string   `json:"identifier"`
	Title      string   `json:"title"`
	Abstract   string   `json:"abstract,omitempty"`
	MinOccurs  int      `json:"min_occurs"`
	MaxOccurs  int      `json:"max_occurs"`
	Kind       string   `json:"kind"` // complex or literal
	MimeTypes  []string `json:"mime_types,omitempty"`
}

// Describe sends DescribeProcess for one process.
func (c *Client) Describe(ctx context.Context, identifier string) (*Description, error) {
	body, err := c.getWPS(ctx, url.Values{"service": {"WPS"}, "request": {"DescribeProcess"}, "version": {"1.0.0"}, "identifier": {identifier}})
	if err != nil {
		return nil, err
	}
	var doc describeXML
	if err := decodeXML(body, &doc); err != nil {
		return nil, fmt.Errorf("the DescribeProcess answer is not valid XML: %w", err)
	}
	for _, p := range doc.Processes {
		if strings.TrimSpace(p.ID) != identifier {
			continue
		}
		d := &Description{ProcessInfo: p.info(), StatusSupported: p.StatusSupported == "true", StoreSupported: p.StoreSupported == "true"}
		for _, in := range p.Inputs {
			d.Inputs = append(d.Inputs, in.io())
		}
		for _, out := range p.Outputs {
			d.Outputs = append(d.Outputs, out.io())
		}
		return d, nil
	}
	return nil, fmt.Errorf("the server did not describe process %q", identifier)
}

func (x ioXML) io() IO {
	out := IO{Identifier: strings.TrimSpace(x.ID), Title: strings.TrimSpace(x.Title), Abstract: strings.TrimSpace(x.Abstract),
		MinOccurs: 1, MaxOccurs: 1, Kind: "complex"}
	if n, err := strconv.Atoi(x.MinOccurs); err == nil {
		out.MinOccurs = n
	}
	if n, err := strconv.Atoi(x.MaxOccurs); err == nil {
		out.MaxOccurs = n
	}
	f := x.Complex
	if f == nil {
		f = x.ComplexO
	}
	switch {
	case f != nil:
		out.MimeTypes = append(append([]string{}, f.Default...), f.Supported...)
		out.MimeTypes = dedupe(out.MimeTypes)
	case x.Literal != nil || x.LiteralO != nil:
		out.Kind = "literal"
	}
	return out
}

func dedupe(in []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range in {
		if s = strings.TrimSpace(s); s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// getWPS sends a KVP request to the WPS endpoint, anonymously unless the
// server asks for credentials.
func (c *Client) getWPS(ctx context.Context, q url.Values) ([]byte, error) {
	u, err := c.wpsURL()
	if err != nil {
		return nil, err
	}
	// Parameters of the endpoint URL are kept, as OWSLib keeps them.
	merged := u.Query()
	for k, v := range q {
		merged[k] = v
	}
	u.RawQuery = merged.Encode()
	resp, body, err := c.fetch(ctx, request{method: http.MethodGet, url: u.String(), accept: "text/xml", auth: authOnDemand})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerError(http.MethodGet, u.String(), resp, body)
	}
	if rootName(body) == "ExceptionReport" {
		if se := parseExceptionReport(body); se != nil {
			se.HTTPStatus = resp.StatusCode
			return nil, se
		}
	}
	return body, nil
}

// Method is how Execute is sent.
type Method int

// The two ways to send Execute.
const (
	Post Method = iota // an XML document (what the Python client does)
	Get                // key-value pairs in the query string
)

// Execute submits p (and the workflow it ends) by POST and returns as soon
// as the server has accepted it; Wait follows it.
func (c *Client) Execute(ctx context.Context, p *Process) (*Execution, error) {
	di, err := p.DataInputs()
	if err != nil {
		return nil, err
	}
	return c.ExecuteDataInputs(ctx, p.Identifier, di, Post)
}

// ExecuteGet submits p with a KVP GET request. Unlike the Python client's,
// the JSON is sent unchanged (spaces and all), percent-encoded.
func (c *Client) ExecuteGet(ctx context.Context, p *Process) (*Execution, error) {
	di, err := p.DataInputs()
	if err != nil {
		return nil, err
	}
	return c.ExecuteDataInputs(ctx, p.Identifier, di, Get)
}

// ExecuteDataInputs submits ready-made DataInputs for the process
// identifier.
func (c *Client) ExecuteDataInputs(ctx context.Context, identifier string, di DataInputs, m Method) (*Execution, error) {
	for _, s := range []*string{&di.Variable, &di.Domain, &di.Operation} {
		if strings.TrimSpace(*s) == "" {
			*s = "[]"
		}
	}
	u, err := c.wpsURL()
	if err != nil {
		return nil, err
	}
	r := request{method: http.MethodPost, url: u.String(), accept: "text/xml", auth: authAlways}
	if m == Get {
		r.method = http.MethodGet
		u.RawQuery = executeQuery(u.RawQuery, identifier, di)
		r.url = u.String()
	} else {
		r.body = executeXML(identifier, di)
		r.contentType = "text/xml; charset=utf-8"
	}
	resp, body, err := c.fetch(ctx, r)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerError(r.method, c.URL, resp, body)
	}
	st, loc, err := parseStatus(body)
	if err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			se.HTTPStatus = resp.StatusCode
			return nil, se
		}
		return nil, fmt.Errorf("execute: %w", err)
	}
	e := &Execution{Identifier: identifier, StatusLocation: loc, JobID: jobIDOf(loc), Status: st}
	if e.StatusLocation == "" && !st.State.Done() {
		return nil, fmt.Errorf("the server accepted the job but gave no status location to follow it")
	}
	return e, nil
}

// executeQuery is the KVP form of Execute. DataInputs is percent-encoded
// byte by byte (a space as %20, "+" as %2B), because WPS servers, ours
// included, keep a literal "+" in DataInputs and split only on "&".
func executeQuery(existing, identifier string, di DataInputs) string {
	var b strings.Builder
	if existing != "" {
		b.WriteString(existing + "&")
	}
	b.WriteString("service=WPS&request=Execute&version=1.0.0&identifier=")
	b.WriteString(percentEncode(identifier))
	b.WriteString("&DataInputs=")
	b.WriteString(percentEncode("variable=" + di.Variable + ";domain=" + di.Domain + ";operation=" + di.Operation))
	b.WriteString("&ResponseDocument=output&storeExecuteResponse=true&status=true")
	return b.String()
}

func percentEncode(s string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '.' || ch == '_' || ch == '~' {
			b.WriteByte(ch)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[ch>>4])
		b.WriteByte(hex[ch&15])
	}
	return b.String()
}

// Execution returns a handle on a job known by its status location, for
// example one submitted by an earlier program. The status location is
// polled with the client's credentials: give only one the server issued.
func (c *Client) Execution(statusLocation string) *Execution {
	return &Execution{StatusLocation: statusLocation, JobID: jobIDOf(statusLocation)}
}

// Poll reads the job's status document once.
func (c *Client) Poll(ctx context.Context, e *Execution) (*Status, error) {
	if e.StatusLocation == "" {
		if e.Status != nil {
			return e.Status, nil
		}
		return nil, errors.New("the job has no status location")
	}
	resp, body, err := c.fetch(ctx, request{method: http.MethodGet, url: e.StatusLocation, accept: "text/xml", auth: authAlways, fromServer: true})
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, answerError(http.MethodGet, e.StatusLocation, resp, body)
	}
	st, _, err := parseStatus(body)
	if err != nil {
		return nil, err
	}
	if e.Identifier == "" {
		e.Identifier = st.Identifier
	}
	e.Status = st
	return st, nil
}

// ErrTimeout is returned by Wait when WaitOptions.Timeout passes first.
var ErrTimeout = errors.New("timed out waiting for the job")

// WaitOptions tune Wait. The zero value polls from 200 ms, backing off to
// 5 s, with no timeout of its own.
type WaitOptions struct {
	Timeout     time.Duration // 0: until ctx ends
	MinInterval time.Duration // first pause between polls; default 200 ms
	MaxInterval time.Duration // longest pause; default 5 s
	// MaxErrors is how many polls in a row may fail for a reason that may
	// pass (network, HTTP 5xx) before Wait gives up; default 5.
	MaxErrors int
	// Progress is called with the first status and whenever the state,
	// percent or message changes.
	Progress func(*Status)
}

// Wait polls the job until it succeeds or fails, with back-off. A failed
// job gives its status and a *JobFailedError.
func (c *Client) Wait(ctx context.Context, e *Execution, o WaitOptions) (*Status, error) {
	if o.MinInterval <= 0 {
		o.MinInterval = 200 * time.Millisecond
	}
	if o.MaxInterval <= 0 {
		o.MaxInterval = 5 * time.Second
	}
	if o.MaxInterval < o.MinInterval {
		o.MaxInterval = o.MinInterval
	}
	if o.MaxErrors <= 0 {
		o.MaxErrors = 5
	}
	var cancel context.CancelFunc = func() {}
	if o.Timeout > 0 {
		ctx, cancel = context.WithTimeoutCause(ctx, o.Timeout, ErrTimeout)
	}
	defer cancel()

	var last *Status
	report := func(st *Status) {
		if o.Progress != nil && (last == nil || st.State != last.State || st.Percent != last.Percent || st.Message != last.Message) {
			o.Progress(st)
		}
		last = st
	}
	interval := o.MinInterval
	failures := 0
	st := e.Status
	for {
		if st != nil {
			report(st)
			switch st.State {
			case Succeeded:
				return st, nil
			case Failed:
				return st, &JobFailedError{JobID: e.JobID, Status: st}
			}
		}
		if e.StatusLocation == "" {
			return st, errors.New("the job has no status location to follow")
		}
		if st != nil {
			if err := sleep(ctx, interval); err != nil {
				return last, timeoutErr(ctx, err, last)
			}
			interval = min(time.Duration(float64(interval)*1.5), o.MaxInterval)
		}
		next, err := c.Poll(ctx, e)
		if err != nil {
			if ctx.Err() != nil {
				return last, timeoutErr(ctx, ctx.Err(), last)
			}
			failures++
			if !transient(err) || failures >= o.MaxErrors {
				return last, err
			}
			if st == nil { // keep backing off on a first poll that failed
				if err := sleep(ctx, interval); err != nil {
					return last, timeoutErr(ctx, err, last)
				}
			}
			continue
		}
		failures = 0
		if last != nil && next.State != last.State {
			interval = o.MinInterval
		}
		st = next
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func timeoutErr(ctx context.Context, err error, last *Status) error {
	if errors.Is(context.Cause(ctx), ErrTimeout) {
		if last != nil {
			return fmt.Errorf("%w (last status: %s)", ErrTimeout, last)
		}
		return ErrTimeout
	}
	return err
}

// transient says whether a failed poll may succeed if tried again.
func transient(err error) bool {
	var ae *AuthError
	if errors.As(err, &ae) {
		return false
	}
	var se *ServerError
	if errors.As(err, &se) {
		return se.HTTPStatus >= 500
	}
	var he *HTTPError
	if errors.As(err, &he) {
		return he.Status >= 500 || he.Status == http.StatusTooManyRequests
	}
	return IsUnreachable(err)
}
