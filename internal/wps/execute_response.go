package wps

import (
	"fmt"
	"io"
	"strconv"
	"time"
)

// State is the status of an Execute request, named as the wps:Status child.
type State string

// The WPS 1.0.0 process states.
const (
	Accepted  State = "ProcessAccepted"
	Started   State = "ProcessStarted"
	Paused    State = "ProcessPaused"
	Succeeded State = "ProcessSucceeded"
	Failed    State = "ProcessFailed"
)

// Status is what the status document reports.
type Status struct {
	State   State
	Percent int    // Started and Paused; clamped to 0..100
	Message string // Accepted, Started, Paused, Succeeded; for Failed when Exception is nil
	Created time.Time
	// Exception is the failure shown to the user when State is Failed.
	Exception *Exception
}

// Output is one process output, sent inline.
type Output struct {
	Identifier string // default "output"
	Title      string // defaults to Identifier
	MimeType   string // default "application/json"
	Data       string // inline ComplexData text (JSON)
}

// ExecuteResponse is the answer to Execute and the document served at its
// status location.
type ExecuteResponse struct {
	Service ServiceInfo
	Process ProcessInfo
	// StatusLocation is the absolute URL clients poll; empty for a
	// synchronous answer, which then has no statusLocation attribute.
	StatusLocation string
	Status         Status
	// Inputs are echoed under wps:DataInputs; nil means no DataInputs element.
	Inputs []Input
	// Outputs are written under wps:ProcessOutputs only when the state is
	// Succeeded.
	Outputs []Output
}

const jsonMimeType = "application/json"

type executeView struct {
	Lang, ServiceInstance, StatusLocation string
	Process                               ProcessInfo
	Created                               string
	State, Message, Percent               string
	HasPercent                            bool
	Failed                                []exceptionView
	Inputs                                []Input
	Outputs                               []Output
}

// WriteExecuteResponse writes a wps:ExecuteResponse. An unknown State is an
// error and nothing is written.
func WriteExecuteResponse(w io.Writer, r ExecuteResponse) error {
	st := r.Status
	v := executeView{
		Lang:            r.Service.language(),
		ServiceInstance: joinQuery(r.Service.URL, "service=WPS&request=GetCapabilities"),
		StatusLocation:  r.StatusLocation,
		Process:         r.Process.withDefaults(),
		Created:         creationTime(st.Created),
		State:           string(st.State),
		Message:         st.Message,
	}
	switch st.State {
	case Accepted, Succeeded:
	case Started, Paused:
		// OWSLib reads percentCompleted with int(): "45.0" would be lost.
		v.HasPercent = true
		v.Percent = strconv.Itoa(min(max(st.Percent, 0), 100))
	case Failed:
		ex := st.Exception
		if ex == nil {
			ex = &Exception{Code: NoApplicableCode, Text: st.Message}
		}
		views, err := exceptionViews([]*Exception{ex})
		if err != nil {
			return err
		}
		v.Failed = views
	default:
		return fmt.Errorf("wps: unknown process state %q", st.State)
	}
	if r.Inputs != nil {
		v.Inputs = make([]Input, len(r.Inputs))
		for i, in := range r.Inputs {
			if in.MimeType == "" {
				in.MimeType = jsonMimeType
			}
			v.Inputs[i] = in
		}
	}
	if st.State == Succeeded {
		v.Outputs = make([]Output, len(r.Outputs))
		for i, o := range r.Outputs {
			v.Outputs[i] = o.withDefaults()
		}
	}
	return render(w, "execute_response.xml", v)
}

func (o Output) withDefaults() Output {
	if o.Identifier == "" {
		o.Identifier = "output"
	}
	if o.Title == "" {
		o.Title = o.Identifier
	}
	if o.MimeType == "" {
		o.MimeType = jsonMimeType
	}
	return o
}

// creationTime formats t as RFC 3339 in UTC. The schema requires the
// attribute, so a zero time means "now".
func creationTime(t time.Time) string {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Format(time.RFC3339)
}
