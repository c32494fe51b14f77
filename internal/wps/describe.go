package wps

import (
	"errors"
	"io"
)

// describedInputs are the three ComplexData inputs every LLNL process takes;
// process parameters travel inside the operation JSON, not as WPS inputs.
var describedInputs = []struct{ Identifier, Abstract string }{
	{"variable", "List of input variables"},
	{"domain", "List of domains"},
	{"operation", "List of input operations"},
}

// WriteProcessDescriptions writes the DescribeProcess answer for procs. The
// caller resolves identifiers (and "ALL"); an empty list is an error because
// OWSLib reports a missing description as "process not found".
func WriteProcessDescriptions(w io.Writer, svc ServiceInfo, procs []ProcessInfo) error {
	if len(procs) == 0 {
		return errors.New("wps: no process to describe")
	}
	data := struct {
		Lang      string
		Processes []ProcessInfo
		Inputs    any
	}{svc.language(), processViews(procs), describedInputs}
	return render(w, "describe.xml", data)
}
