package wps

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// maxXMLDepth bounds element nesting; WPS requests need fewer than ten levels.
const maxXMLDepth = 64

// ParseXML parses the body of a POST request: an Execute, GetCapabilities or
// DescribeProcess document. Elements are matched by namespace URI, never by
// prefix (OWSLib declares wps100/ows110 prefixes on each element). A DTD is
// refused as soon as it is seen, before any entity could be expanded. Errors
// are *Exception.
func ParseXML(body []byte) (*Request, error) {
	body = bytes.TrimPrefix(body, []byte("\xEF\xBB\xBF")) // a UTF-8 byte order mark
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, Errorf(MissingParameterValue, "request", "the request body is empty: POST a WPS Execute document")
	}
	root, err := parseTree(body)
	if err != nil {
		return nil, err
	}

	var op string
	if root.name.Space == NSWPS {
		switch root.name.Local {
		case opExecute, opGetCapabilities, opDescribeProcess:
			op = root.name.Local
		}
	}
	if op == "" {
		return nil, Errorf(OperationNotSupported, root.name.Local,
			"the request %s is not supported: expected Execute, GetCapabilities or DescribeProcess in namespace %s",
			clarkName(root.name), NSWPS)
	}
	service, ok := root.attr("service")
	if !ok {
		return nil, Errorf(MissingParameterValue, "service", "the attribute service is required on %s", op)
	}
	if !strings.EqualFold(service, "WPS") {
		return nil, Errorf(InvalidParameterValue, "service", "service must be WPS, not %s", quote(service))
	}

	switch op {
	case opGetCapabilities:
		av := root.child(NSWPS, "AcceptVersions")
		if av == nil {
			av = root.child(NSOWS, "AcceptVersions")
		}
		if av != nil {
			var versions []string
			for _, v := range av.children(NSOWS, "Version") {
				versions = append(versions, v.text())
			}
			if !acceptsVersion(versions) {
				return nil, Errorf(VersionNegotiationFailed, "AcceptVersions",
					"none of the accepted versions is supported; this server speaks WPS %s", Version)
			}
		}
		return &Request{Operation: op}, nil

	case opDescribeProcess:
		if err := checkVersionAttr(root); err != nil {
			return nil, err
		}
		var ids []string
		for _, n := range root.children(NSOWS, "Identifier") {
			if id := strings.TrimSpace(n.text()); id != "" {
				ids = append(ids, id)
			}
		}
		if len(ids) == 0 {
			return nil, Errorf(MissingParameterValue, "Identifier", "DescribeProcess needs at least one ows:Identifier")
		}
		return &Request{Operation: op, Identifiers: ids}, nil

	default:
		if err := checkVersionAttr(root); err != nil {
			return nil, err
		}
		ex, err := parseExecuteXML(root, body)
		if err != nil {
			return nil, err
		}
		return &Request{Operation: op, Execute: ex}, nil
	}
}

func checkVersionAttr(root *xmlNode) error {
	v, _ := root.attr("version")
	return checkVersion(v, "version")
}

func parseExecuteXML(root *xmlNode, body []byte) (*ExecuteRequest, error) {
	id := ""
	if n := root.child(NSOWS, "Identifier"); n != nil {
		id = strings.TrimSpace(n.text())
	}
	if id == "" {
		return nil, Errorf(MissingParameterValue, "Identifier", "the Execute request has no ows:Identifier naming the process")
	}
	ex := &ExecuteRequest{Identifier: id}
	if di := root.child(NSWPS, "DataInputs"); di != nil {
		for _, n := range di.children(NSWPS, "Input") {
			in, err := parseInputXML(n, body)
			if err != nil {
				return nil, err
			}
			ex.Inputs = append(ex.Inputs, in)
		}
	}
	if n := root.child(NSWPS, "ResponseForm"); n != nil {
		rf, err := parseResponseForm(n)
		if err != nil {
			return nil, err
		}
		ex.ResponseForm = rf
	}
	return ex, nil
}

func parseInputXML(n *xmlNode, body []byte) (Input, error) {
	var in Input
	if idn := n.child(NSOWS, "Identifier"); idn != nil {
		in.Identifier = strings.ToLower(strings.TrimSpace(idn.text()))
	}
	if in.Identifier == "" {
		return in, Errorf(MissingParameterValue, "Identifier", "a wps:Input has no ows:Identifier")
	}
	if n.child(NSWPS, "Reference") != nil {
		return in, Errorf(InvalidParameterValue, in.Identifier,
			"input %s: inputs by reference are not supported; send the value inline in wps:Data", quote(in.Identifier))
	}
	data := n.child(NSWPS, "Data")
	if data == nil {
		return in, Errorf(MissingParameterValue, in.Identifier, "input %s has no wps:Data", quote(in.Identifier))
	}
	if cd := data.child(NSWPS, "ComplexData"); cd != nil {
		in.MimeType, _ = cd.attr("mimeType")
		if cd.hasElements() {
			// XML content: pass it on verbatim, as the client wrote it.
			in.Value = strings.TrimSpace(string(body[cd.innerStart:cd.innerEnd]))
		} else {
			in.Value = strings.TrimSpace(cd.text())
		}
		return in, nil
	}
	if ld := data.child(NSWPS, "LiteralData"); ld != nil {
		in.Value = ld.text()
		return in, nil
	}
	if data.child(NSWPS, "BoundingBoxData") != nil {
		return in, Errorf(InvalidParameterValue, in.Identifier, "input %s: bounding box inputs are not supported", quote(in.Identifier))
	}
	return in, Errorf(MissingParameterValue, in.Identifier,
		"the wps:Data of input %s holds no wps:ComplexData or wps:LiteralData", quote(in.Identifier))
}

func parseResponseForm(n *xmlNode) (ResponseForm, error) {
	rf := ResponseForm{Given: true}
	if doc := n.child(NSWPS, "ResponseDocument"); doc != nil {
		for _, f := range []struct {
			name string
			dst  *bool
		}{{"storeExecuteResponse", &rf.StoreExecuteResponse}, {"status", &rf.Status}} {
			if v, ok := doc.attr(f.name); ok {
				b, err := parseBool(v, f.name)
				if err != nil {
					return rf, err
				}
				*f.dst = b
			}
		}
		if out := doc.child(NSWPS, "Output"); out != nil {
			rf.OutputIdentifier = out.childText(NSOWS, "Identifier")
		}
		return rf, nil
	}
	if raw := n.child(NSWPS, "RawDataOutput"); raw != nil {
		rf.RawOutput = true
		rf.OutputIdentifier = raw.childText(NSOWS, "Identifier")
		return rf, nil
	}
	return rf, Errorf(MissingParameterValue, "ResponseForm", "wps:ResponseForm must hold a wps:ResponseDocument or a wps:RawDataOutput")
}

// xmlNode is the little of an element that the parser needs.
type xmlNode struct {
	name       xml.Name
	attrs      []xml.Attr
	kids       []*xmlNode
	chars      strings.Builder // character data directly inside this element
	innerStart int64           // byte offsets of the content between the tags
	innerEnd   int64
}

func (n *xmlNode) child(space, local string) *xmlNode {
	for _, k := range n.kids {
		if k.name.Space == space && k.name.Local == local {
			return k
		}
	}
	return nil
}

func (n *xmlNode) children(space, local string) []*xmlNode {
	var out []*xmlNode
	for _, k := range n.kids {
		if k.name.Space == space && k.name.Local == local {
			out = append(out, k)
		}
	}
	return out
}

func (n *xmlNode) childText(space, local string) string {
	if k := n.child(space, local); k != nil {
		return strings.TrimSpace(k.text())
	}
	return ""
}

func (n *xmlNode) text() string      { return n.chars.String() }
func (n *xmlNode) hasElements() bool { return len(n.kids) > 0 }

// attr returns an unqualified attribute, as WPS request attributes are.
func (n *xmlNode) attr(local string) (string, bool) {
	for _, a := range n.attrs {
		if a.Name.Space == "" && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

// dtdRefused answers any <!DOCTYPE ...>: refusing the declaration itself
// rules out entity expansion (billion laughs) and external entities.
func dtdRefused() *Exception {
	return Errorf(NoApplicableCode, "", "XML document type declarations (DTD) are not accepted")
}

// errEncoding marks a document declared in an encoding other than UTF-8.
type errEncoding string

func (e errEncoding) Error() string { return "unsupported encoding " + string(e) }

// parseTree reads the whole document with a token stream, refusing DTDs and
// deep nesting as they come, and returns the root element.
func parseTree(body []byte) (*xmlNode, error) {
	d := xml.NewDecoder(bytes.NewReader(body))
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		if strings.EqualFold(label, "us-ascii") {
			return r, nil // a subset of UTF-8
		}
		return nil, errEncoding(label)
	}
	var root *xmlNode
	var stack []*xmlNode
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, notWellFormed(err)
		}
		switch t := tok.(type) {
		case xml.Directive:
			return nil, dtdRefused()
		case xml.StartElement:
			if root != nil && len(stack) == 0 {
				return nil, notWellFormedf("a second element %s follows the root element", quote(t.Name.Local))
			}
			if len(stack) >= maxXMLDepth {
				return nil, Errorf(NoApplicableCode, "", "the request is nested deeper than %d elements", maxXMLDepth)
			}
			n := &xmlNode{name: t.Name, attrs: t.Attr, innerStart: d.InputOffset()}
			if len(stack) == 0 {
				root = n
			} else {
				parent := stack[len(stack)-1]
				parent.kids = append(parent.kids, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			// The decoder has matched start and end tags already.
			n := stack[len(stack)-1]
			n.innerEnd = max(before, n.innerStart)
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].chars.Write(t)
			} else if len(bytes.TrimSpace(t)) > 0 {
				return nil, notWellFormedf("text outside the root element")
			}
		}
	}
	if root == nil {
		return nil, notWellFormedf("the document has no root element")
	}
	return root, nil
}

func notWellFormedf(format string, args ...any) *Exception {
	return Errorf(NoApplicableCode, "", "the request is not well-formed XML: "+format, args...)
}

func notWellFormed(err error) *Exception {
	var enc errEncoding
	if errors.As(err, &enc) {
		return Errorf(NoApplicableCode, "", "the request declares the encoding %s; send UTF-8", quote(string(enc))).WithCause(err)
	}
	var syn *xml.SyntaxError
	if errors.As(err, &syn) {
		return notWellFormedf("line %d: %s", syn.Line, syn.Msg).WithCause(err)
	}
	return notWellFormedf("the document could not be read").WithCause(err)
}

// clarkName writes a qualified name as {namespace}local, the form used in
// messages about unexpected elements.
func clarkName(n xml.Name) string {
	if n.Space == "" {
		return quote(n.Local) + " (no namespace)"
	}
	return quote(fmt.Sprintf("{%s}%s", n.Space, n.Local))
}
