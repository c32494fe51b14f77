// Package wps speaks OGC WPS 1.0.0: it parses GetCapabilities, DescribeProcess
// and Execute requests (KVP and XML) and writes the Capabilities,
// ProcessDescriptions, ExecuteResponse and ExceptionReport documents.
//
// It holds no business logic: the server decides which processes exist and
// what a job's status is; this package only turns those into bytes that the
// cwt client (OWSLib) accepts, and bytes from any client into a Request.
package wps

// XML namespaces and the protocol version. Clients match elements by
// namespace URI, so these must be exact.
const (
	NSWPS   = "http://www.opengis.net/wps/1.0.0"
	NSOWS   = "http://www.opengis.net/ows/1.1"
	NSXLink = "http://www.w3.org/1999/xlink"
	NSXSI   = "http://www.w3.org/2001/XMLSchema-instance"
	Version = "1.0.0"
)

// ContentType is the media type of every WPS document. It is exactly
// "text/xml": OWSLib only recognises an ExceptionReport when the header has
// no parameters (a "; charset=" suffix makes it miss the error).
const ContentType = "text/xml"

// Operation names, in their canonical case.
const (
	opGetCapabilities = "GetCapabilities"
	opDescribeProcess = "DescribeProcess"
	opExecute         = "Execute"
)
