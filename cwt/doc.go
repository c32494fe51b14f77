// Package cwt is a Go client of ComputeWPS and of the LLNL ESGF Compute
// WPS: what the Python cwt client does, without its defects.
//
// A request is a workflow of Processes over Variables, constrained by
// Domains:
//
//	tas := cwt.NewVariable("file:///data/tas_day_2000.nc", "tas")
//	sub := cwt.NewProcess("CDAT.subset", tas)
//	sub.Domain = cwt.NewDomain(cwt.TimeRange("time", "2000-03", "2000-04"), cwt.ValueRange("lat", -30, 30))
//	avg := cwt.NewProcess("CDAT.average", sub).SetParam("axes", "time")
//
//	c := cwt.NewClient("http://127.0.0.1:8000/wps")
//	job, err := c.Execute(ctx, avg)
//	status, err := c.Wait(ctx, job, cwt.WaitOptions{Timeout: 10 * time.Minute})
//	outputs, err := status.Variables()
//
// The JSON sent is byte for byte what the Python client sends for the same
// objects (see DataInputs). Every request has a timeout and takes a
// context; Wait backs off and gives up after WaitOptions.Timeout.
//
// The job API (Jobs, Job, JobStatuses, DeleteJob, Download) lists and
// manages the caller's jobs.
//
// Authentication: BearerToken sends a ready token; TokenAuthenticator gets
// tokens from an OpenID Connect provider (KeyCloak: KeycloakIssuer), by
// client credentials or a PKCELogin, caches them until shortly before they
// expire, refreshes them, and saves them in a Store compatible with the
// Python client's ~/.cwt.json (written atomically, mode 0600).
// Client.RegisterClient gets client credentials from the server's
// registration page.
package cwt
