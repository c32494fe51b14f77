package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/computewps/computewps/cwt"
)

// Exit codes; the README lists them too.
const (
	exitOK          = 0
	exitError       = 1 // network, server, files
	exitUsage       = 2 // a wrong command line
	exitJobFailed   = 3 // the job ended in ProcessFailed
	exitAuth        = 4 // authentication failed or is needed
	exitTimeout     = 5 // --timeout passed before the job ended
	exitInterrupted = 130
)

type streams struct {
	in       io.Reader
	out, err io.Writer
}

// usageError is a wrong command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// app holds the global flags and what they resolve to.
type app struct {
	ctx    context.Context
	io     streams
	getenv func(string) string

	url, profile, config string
	timeout              time.Duration
	quiet                bool

	// note explains, after an authentication error, why no saved login
	// was used.
	note string
}

func run(ctx context.Context, args []string, s streams, getenv func(string) string) int {
	a := &app{ctx: ctx, io: s, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	return a.report(err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "cwt",
		Short: "Run climate computations on a ComputeWPS server from the shell",
		Long: `cwt runs climate computations on a ComputeWPS (or LLNL ESGF Compute WPS) server:
list and describe its processes, execute them on NetCDF files or OPeNDAP datasets,
follow the jobs, download the results, and log in when the server requires it.

The server is named by --url, the CWT_URL environment variable, or the profile
saved by "cwt login --url ...". Logins are saved in ~/.cwt.json (the Python cwt
client's file, written with mode 0600), under the profile name ("default").
CWT_TOKEN, when set, is sent as a bearer token instead.

Exit codes: 0 success, 1 error (network, server, files), 2 usage error,
3 the job failed, 4 authentication failed or is needed, 5 timed out waiting,
130 interrupted.`,
		Example: `  export CWT_URL=http://127.0.0.1:8000/wps
  cwt processes
  cwt execute CDAT.subset --var file://$PWD/data/sample/tas_day_2000.nc:tas \
      --domain 'time=2000-01-01:2000-01-31,lat=-30:30' --wait
  cwt download 1 -o results`,
		SilenceErrors: true,
		SilenceUsage:  true,
		Version:       version,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usagef("unknown command %q; see cwt --help", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			cmd.SetOut(a.io.err)
			_ = cmd.Help()
			return usagef("no command given")
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usagef("%v; see %s --help", err, cmd.CommandPath())
	})
	f := root.PersistentFlags()
	f.StringVar(&a.url, "url", "", "WPS endpoint, e.g. http://127.0.0.1:8000/wps (default $CWT_URL, then the profile's)")
	f.StringVar(&a.profile, "profile", "", "name of the saved login and server (default $CWT_PROFILE, then \"default\")")
	f.StringVar(&a.config, "config", "", "credential file (default $CWT_CONFIG, then ~/.cwt.json)")
	f.DurationVar(&a.timeout, "http-timeout", cwt.DefaultTimeout, "longest wait for one answer from the server")
	f.BoolVarP(&a.quiet, "quiet", "q", false, "no progress output")

	root.CompletionOptions.DisableDefaultCmd = true
	root.SetHelpCommand(&cobra.Command{
		Use:     "help [COMMAND]",
		Short:   "Show the help of a command",
		Example: "  cwt help execute",
		RunE: func(cmd *cobra.Command, args []string) error {
			target, rest, err := root.Find(args)
			if err != nil || target == nil || len(rest) > 0 {
				return usagef("unknown command %q; see cwt --help", strings.Join(args, " "))
			}
			return target.Help()
		},
	})
	root.AddCommand(a.processesCommand(), a.describeCommand(), a.executeCommand(), a.statusCommand(),
		a.jobsCommand(), a.downloadCommand(), a.cancelCommand(), a.loginCommand(), a.logoutCommand())
	for _, c := range root.Commands() {
		c.SilenceErrors, c.SilenceUsage = true, true
	}
	return root
}

// exactArgs is cobra.ExactArgs with a usage error that names the
// arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s needs %s; see %s --help", cmd.CommandPath(), names, cmd.CommandPath())
		}
		return nil
	}
}

func (a *app) profileName() string {
	if a.profile != "" {
		return a.profile
	}
	if p := a.getenv("CWT_PROFILE"); p != "" {
		return p
	}
	return cwt.DefaultProfile
}

func (a *app) store() *cwt.Store {
	path := a.config
	if path == "" {
		path = a.getenv("CWT_CONFIG")
	}
	if path == "" {
		path = cwt.DefaultStorePath()
	}
	return &cwt.Store{Path: path}
}

// serverURL resolves the WPS endpoint: --url, CWT_URL, then the profile.
func (a *app) serverURL(entry *cwt.Entry) (string, error) {
	u := a.url
	if u == "" {
		u = a.getenv("CWT_URL")
	}
	if u == "" && entry != nil {
		u = entry.URL
	}
	if u == "" {
		return "", usagef("no server given: use --url http://HOST:PORT/wps, or set CWT_URL (\"make run\" serves http://127.0.0.1:8000/wps)")
	}
	u = strings.TrimRight(u, "/")
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return "", usagef("--url %q must start with http:// or https://", u)
	}
	return u, nil
}

// client builds the library client with the credentials that apply: the
// CWT_TOKEN, else the profile's login when it was made for this server.
func (a *app) client() (*cwt.Client, error) {
	entry, ok, err := a.store().Get(a.profileName())
	if err != nil {
		return nil, err
	}
	var e *cwt.Entry
	if ok {
		e = &entry
	}
	u, err := a.serverURL(e)
	if err != nil {
		return nil, err
	}
	c := &cwt.Client{URL: u, Timeout: a.timeout, UserAgent: "cwt/" + version}
	switch {
	case a.getenv("CWT_TOKEN") != "":
		c.Auth = cwt.BearerToken(a.getenv("CWT_TOKEN"))
	case e == nil:
	case e.URL != "" && !sameServer(e.URL, u):
		a.note = fmt.Sprintf("the login saved in profile %q is for %s, not %s", a.profileName(), e.URL, u)
	case e.Token != "" && e.AccessToken == "" && e.ClientSecret == "":
		c.Auth = cwt.BearerToken(e.Token)
	case e.AccessToken != "" || e.RefreshToken != "" || e.ClientSecret != "":
		c.Auth = &cwt.TokenAuthenticator{Issuer: issuerOf(e), ClientID: e.ClientID, ClientSecret: e.ClientSecret,
			Store: a.store(), Profile: a.profileName()}
	}
	return c, nil
}

func sameServer(a, b string) bool {
	return strings.EqualFold(strings.TrimRight(a, "/"), strings.TrimRight(b, "/"))
}

func issuerOf(e *cwt.Entry) string {
	if e.Issuer != "" {
		return e.Issuer
	}
	if e.KeycloakURL != "" && e.Realm != "" {
		return cwt.KeycloakIssuer(e.KeycloakURL, e.Realm)
	}
	return ""
}

// report prints err with what to do next and returns the exit code.
func (a *app) report(err error) int {
	w := a.io.err
	var ue *usageError
	var jf *cwt.JobFailedError
	var ae *cwt.AuthError
	switch {
	case errors.As(err, &ue):
		fmt.Fprintln(w, "cwt:", ue.msg)
		return exitUsage
	case errors.As(err, &jf):
		fmt.Fprintln(w, "cwt:", jf.Error())
		return exitJobFailed
	case errors.As(err, &ae):
		fmt.Fprintln(w, "cwt:", ae.Error())
		fmt.Fprintln(w, "  next:", a.authHint(ae))
		return exitAuth
	case errors.Is(err, cwt.ErrTimeout):
		fmt.Fprintln(w, "cwt:", err)
		fmt.Fprintln(w, "  next: the job goes on on the server; follow it with \"cwt status JOB --wait\"")
		return exitTimeout
	case errors.Is(err, context.Canceled):
		fmt.Fprintln(w, "cwt: interrupted")
		fmt.Fprintln(w, "  next: a job already submitted goes on on the server; \"cwt jobs\" lists it")
		return exitInterrupted
	case cwt.IsUnreachable(err):
		fmt.Fprintln(w, "cwt:", err)
		fmt.Fprintln(w, "  next: check that the server runs at that address (--url, CWT_URL); \"make run\" starts one on http://127.0.0.1:8000/wps")
		return exitError
	}
	fmt.Fprintln(w, "cwt:", err)
	if cwt.IsNotFound(err) {
		fmt.Fprintln(w, "  next: \"cwt jobs\" lists your jobs")
	}
	return exitError
}

func (a *app) authHint(ae *cwt.AuthError) string {
	if a.note != "" {
		return a.note + "; log in for this server with \"cwt login --url URL ...\" or choose the profile with --profile"
	}
	if ae.Hint != "" {
		return ae.Hint
	}
	switch {
	case ae.Status == http.StatusForbidden:
		return "your account lacks a role or scope this server requires; ask its administrator"
	case errors.Is(ae, cwt.ErrLoginRequired) || ae.Status == http.StatusUnauthorized:
		return "log in with \"cwt login --pkce --keycloak-url URL --realm REALM\" (a browser login) or \"cwt login --register ...\" (client credentials from the server); see cwt login --help"
	}
	return "check the login settings; see cwt login --help"
}

// isTerminal says whether the stream is a character device (a terminal).
func isTerminal(stream any) bool {
	f, ok := stream.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
