// Package dap serves NetCDF files over OPeNDAP's DAP2 protocol, read with
// the netcdf package, so that libnetcdf, ncdump, xarray and other DAP2
// clients can open them by URL.
//
// A request names a dataset and a response type, with an optional
// constraint expression as its query: <dataset>.dds, .das, .dods, .ascii
// (or .asc), .html, and .ver (or .version). See Handler.
//
// # Representation
//
// A variable whose dimensions all have coordinate variables is a Grid of
// itself and those coordinate variables; other variables, coordinate
// variables among them, are Arrays with named dimensions, and scalars are
// base types. NetCDF types map to DAP2 ones as follows:
//
//	byte   -> Int16 (DAP2's Byte is unsigned; Int16 keeps negative values)
//	ubyte  -> Byte
//	short  -> Int16     ushort -> UInt16
//	int    -> Int32     uint   -> UInt32
//	float  -> Float32   double -> Float64
//	int64, uint64 -> Float64 (DAP2 has no 64-bit integers; exact to 2^53)
//	char   -> String: the last dimension is the length of each string, and
//	          the DAS gives it back to libnetcdf (DODS.strlen, DODS.dimName)
//
// Attributes follow the same mapping, so a _FillValue keeps its variable's
// type. Variables of other types (string, user-defined) are left out; the
// netcdf package cannot read them. libnetcdf's DAP2 client gives Byte,
// UInt16 and UInt32 the signed netCDF type of the same size (reading them
// as double still gives the unsigned values), so variables of unsigned
// types carry _Unsigned = "true" in the DAS, which CF readers honour.
//
// A Grid projected whole is sent as a Grid, its maps constrained like its
// array; one of which only some members are projected is sent as a
// Structure of them, as libdap servers do. Data follow the dataset's
// order, whatever the order of the projection.
//
// Strings are read with File.ReadText, so each ends at its first NUL and
// loses trailing spaces, and a char variable is read whole: requests for one
// of more than 64 MiB are refused. A scalar char has no dimension to give
// its length, so libnetcdf reads it back as char[1].
//
// # Same-process clients
//
// The netcdf package holds one process-wide lock for every libnetcdf call,
// including an OPeNDAP read, which waits for this handler's response while
// the handler waits for that lock to read the file. libnetcdf in the
// process that serves a dataset therefore must not open it by URL: it
// would hang. Package daptest serves files from a child process for tests.
package dap

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/netcdf"
)

// DefaultMaxBytes is the largest .dods or .ascii response when
// Handler.MaxBytes is 0.
const DefaultMaxBytes = 512 << 20

// ServerVersion is sent in the XOPeNDAP-Server header and by .ver.
const ServerVersion = "ComputeWPS/1"

// Resolver maps the dataset path of a request (the URL path with the DAP
// suffix removed, relative to where the handler is mounted, e.g.
// "sample/tas_day_2000.nc") to a local file, or returns an error:
// fs.ErrNotExist for unknown or forbidden datasets, which clients see as a
// DAP error 404. The handler only passes paths for which fs.ValidPath is
// true (no "..", no leading "/"), but symbolic links and the like are the
// Resolver's to check.
type Resolver func(dataset string) (path string, err error)

// Handler answers DAP2 requests for the datasets Resolve knows. Mount it
// with http.StripPrefix so that its request paths are dataset paths.
type Handler struct {
	Resolve Resolver
	// MaxBytes is the largest .dods or .ascii response, counted as XDR
	// data bytes; 0 means DefaultMaxBytes. Larger requests get a DAP error
	// 413 that gives the estimated size.
	MaxBytes int64
	Log      *slog.Logger // may be nil
}

// Response types, by URL suffix.
const (
	extDDS     = "dds"
	extDAS     = "das"
	extDODS    = "dods"
	extASCII   = "ascii"
	extASC     = "asc"
	extHTML    = "html"
	extVer     = "ver"
	extVersion = "version"
)

func (h *Handler) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.DiscardHandler)
}

func (h *Handler) maxBytes() int64 {
	if h.MaxBytes > 0 {
		return h.MaxBytes
	}
	return DefaultMaxBytes
}

// ServeHTTP answers one DAP2 request. Errors are DAP2 error objects whose
// code is also the HTTP status.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("XDODS-Server", "dods/3.2")
	hdr.Set("XOPeNDAP-Server", ServerVersion)
	hdr.Set("XDAP", "2.0")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hdr.Set("Allow", "GET, HEAD")
		h.fail(w, r, errorf(http.StatusMethodNotAllowed, "method %s is not allowed; use GET", r.Method))
		return
	}
	name, ext := splitExt(strings.TrimPrefix(r.URL.Path, "/"))
	if ext == extVer || ext == extVersion || name == extVersion && ext == "" {
		h.start(w, "dods-version", "text/plain; charset=utf-8")
		io.WriteString(w, "Core version: dods/3.2\nServer version: "+ServerVersion+"\nDAP version: 2.0\n")
		return
	}
	switch ext {
	case extDDS, extDAS, extDODS, extASCII, extASC, extHTML:
	default:
		h.fail(w, r, errorf(http.StatusBadRequest,
			"unknown response type: add .dds, .das, .dods, .ascii or .html to the dataset path"))
		return
	}
	ce, err := url.PathUnescape(r.URL.RawQuery)
	if err != nil {
		h.fail(w, r, errorf(http.StatusBadRequest, "malformed constraint %s: bad %%XX escape", quote(r.URL.RawQuery)))
		return
	}
	f, ds, err := h.open(name)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer f.Close()
	if len(ds.skipped) > 0 {
		h.log().Debug("dap: variables of types DAP2 cannot carry are not served", "dataset", name, "variables", ds.skipped)
	}
	switch ext {
	case extDAS:
		h.start(w, "dods-das", "text/plain; charset=utf-8")
		bw := bufio.NewWriter(w)
		writeDAS(bw, ds)
		bw.Flush()
	case extHTML:
		h.html(w, r, ds)
	default:
		h.constrained(w, r, f, ds, ext, ce)
	}
}

// splitExt splits p at the last '.' of its last element.
func splitExt(p string) (dataset, ext string) {
	i := strings.LastIndexByte(p, '.')
	if i < 0 || strings.Contains(p[i:], "/") {
		return p, ""
	}
	return p[:i], p[i+1:]
}

// start sets the headers of a successful response.
func (h *Handler) start(w http.ResponseWriter, desc, ctype string) {
	w.Header().Set("Content-Description", desc)
	w.Header().Set("Content-Type", ctype)
}

// fail sends err as a DAP2 error object. Errors that are not *Error are
// failures to read: the client gets a generic 500 and the log the cause.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	if !errors.As(err, &e) {
		h.log().Error("dap: cannot serve dataset", "path", r.URL.Path, "error", err)
		e = errorf(http.StatusInternalServerError, "the server could not read this dataset")
	}
	hdr := w.Header()
	hdr.Del("Content-Length")
	hdr.Set("Content-Description", "dods-error")
	hdr.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(e.Code)
	bw := bufio.NewWriter(w)
	writeErrorObject(bw, e)
	bw.Flush()
}

// open resolves and opens a dataset and builds its DAP2 view.
func (h *Handler) open(name string) (*netcdf.File, *dataset, error) {
	notFound := errorf(http.StatusNotFound, "no dataset %s", quote(name))
	if name == "" || !fs.ValidPath(name) || h.Resolve == nil {
		return nil, nil, notFound
	}
	p, err := h.Resolve(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	f, err := netcdf.Open(p)
	if netcdf.IsNotFound(err) {
		return nil, nil, notFound
	}
	if err != nil {
		return nil, nil, err
	}
	vars, err := f.Vars()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	dims, err := f.Dims()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	globals, err := f.Attrs()
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, newDataset(path.Base(name), vars, dims, globals), nil
}

// countingWriter tells whether anything reached the client, after which an
// error can no longer be reported as a status.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// constrained answers .dds, .dods and .ascii, which apply the constraint.
func (h *Handler) constrained(w http.ResponseWriter, r *http.Request, f *netcdf.File, ds *dataset, ext, ce string) {
	terms, err := parseConstraint(ce)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	nodes, err := ds.project(terms)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if ext == extDDS {
		h.start(w, "dods-dds", "text/plain; charset=utf-8")
		bw := bufio.NewWriter(w)
		writeDDS(bw, ds.name, nodes)
		bw.Flush()
		return
	}
	if err := h.checkSize(nodes); err != nil {
		h.fail(w, r, err)
		return
	}
	if ext == extDODS {
		h.start(w, "dods-data", "application/octet-stream")
	} else {
		h.start(w, "dods-ascii", "text/plain; charset=utf-8")
	}
	if r.Method == http.MethodHead {
		return
	}
	cw := &countingWriter{w: w}
	bw := bufio.NewWriterSize(cw, 64<<10)
	writeDDS(bw, ds.name, nodes)
	if ext == extDODS {
		bw.WriteString("Data:\n")
	} else {
		bw.WriteString("---------------------------------------------\n")
	}
	enc := newEncoder(r.Context(), f, bw)
	for _, n := range nodes {
		if ext == extDODS {
			err = enc.xdr(n)
		} else {
			err = enc.ascii(n, "")
		}
		if err != nil {
			break
		}
	}
	if err == nil {
		err = bw.Flush()
	}
	var re *readError
	switch {
	case err == nil:
	case !errors.As(err, &re):
		// The client went away or the connection failed; nobody is left to tell.
		h.log().Debug("dap: response not completed", "path", r.URL.Path, "error", err)
	case cw.n == 0:
		h.fail(w, r, err)
	default:
		// The status has gone out with the first bytes: break the response
		// so that the client cannot take it for complete.
		h.log().Error("dap: cannot read dataset while streaming", "path", r.URL.Path, "error", err)
		panic(http.ErrAbortHandler)
	}
}

// checkSize refuses responses larger than MaxBytes, and those that would
// read a text variable larger than maxText, since text is read whole.
func (h *Handler) checkSize(nodes []*node) error {
	limit := h.maxBytes()
	var total int64
	for _, n := range nodes {
		total = satAdd(total, n.size())
	}
	if total > limit {
		return errorf(http.StatusRequestEntityTooLarge,
			"the response would be about %d bytes (%s), more than the %d bytes (%s) this server sends at once; request a smaller hyperslab",
			total, human(total), limit, human(limit))
	}
	var walk func(n *node) error
	walk = func(n *node) error {
		for _, m := range n.members {
			if err := walk(m); err != nil {
				return err
			}
		}
		if n.kind != atomic || n.v.typ != tString {
			return nil
		}
		whole := n.v.strLen()
		for _, d := range n.v.dims {
			whole = satMul(whole, int64(d.len))
		}
		if whole > maxText {
			return errorf(http.StatusRequestEntityTooLarge,
				"text variable %s is read whole, and its %d bytes are more than the %d bytes this server reads at once",
				strconv.Quote(n.v.name), whole, int64(maxText))
		}
		return nil
	}
	for _, n := range nodes {
		if err := walk(n); err != nil {
			return err
		}
	}
	return nil
}

// human writes a byte count in binary units.
func human(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for f >= 1024 && i < 5 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", f, [...]string{"", "KiB", "MiB", "GiB", "TiB", "PiB"}[i])
}
