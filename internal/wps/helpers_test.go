package wps

import (
	"bytes"
	"encoding/xml"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// checkGolden compares a document with testdata/golden/name, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test -update after checking the change)\n--- got ---\n%s", name, got)
	}
}

// elem is a parsed element with its resolved namespace, as a client sees it.
type elem struct {
	Name xml.Name
	Attr []xml.Attr
	Kids []*elem
	Text string
}

// parseDoc parses a document the way a namespace-aware client would and
// checks the XML declaration every document must start with.
func parseDoc(t *testing.T, doc []byte) *elem {
	t.Helper()
	if !bytes.HasPrefix(doc, []byte(`<?xml version="1.0" encoding="UTF-8"?>`+"\n")) {
		t.Fatalf("document does not start with the XML declaration:\n%s", doc)
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	var root *elem
	var stack []*elem
	for {
		tok, err := d.Token()
		if err != nil {
			if err == io.EOF {
				break
			}
			t.Fatalf("not well-formed: %v\n%s", err, doc)
		}
		switch tk := tok.(type) {
		case xml.StartElement:
			e := &elem{Name: tk.Name, Attr: tk.Attr}
			if len(stack) == 0 {
				root = e
			} else {
				p := stack[len(stack)-1]
				p.Kids = append(p.Kids, e)
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(tk)
			}
		}
	}
	return root
}

// path follows children by namespace and local name, "ns local" pairs.
func (e *elem) path(t *testing.T, steps ...xml.Name) *elem {
	t.Helper()
	cur := e
	for _, s := range steps {
		next := cur.child(s)
		if next == nil {
			t.Fatalf("no child {%s}%s under {%s}%s", s.Space, s.Local, cur.Name.Space, cur.Name.Local)
		}
		cur = next
	}
	return cur
}

func (e *elem) child(n xml.Name) *elem {
	for _, k := range e.Kids {
		if k.Name == n {
			return k
		}
	}
	return nil
}

func (e *elem) all(n xml.Name) []*elem {
	var out []*elem
	for _, k := range e.Kids {
		if k.Name == n {
			out = append(out, k)
		}
	}
	return out
}

func (e *elem) attr(space, local string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Space == space && a.Name.Local == local {
			return a.Value, true
		}
	}
	return "", false
}

func (e *elem) text() string { return strings.TrimSpace(e.Text) }

func wpsName(local string) xml.Name { return xml.Name{Space: NSWPS, Local: local} }
func owsName(local string) xml.Name { return xml.Name{Space: NSOWS, Local: local} }
func bare(local string) xml.Name    { return xml.Name{Local: local} }

// checkRoot asserts what every document's root carries.
func checkRoot(t *testing.T, root *elem, name xml.Name, schemaLocation, lang string) {
	t.Helper()
	if root.Name != name {
		t.Fatalf("root = {%s}%s, want {%s}%s", root.Name.Space, root.Name.Local, name.Space, name.Local)
	}
	if got, _ := root.attr(NSXSI, "schemaLocation"); got != schemaLocation {
		t.Errorf("xsi:schemaLocation = %q, want %q", got, schemaLocation)
	}
	if got, _ := root.attr("http://www.w3.org/XML/1998/namespace", "lang"); got != lang {
		t.Errorf("xml:lang = %q, want %q", got, lang)
	}
	want := map[string]string{"wps": NSWPS, "ows": NSOWS, "xlink": NSXLink, "xsi": NSXSI}
	for _, a := range root.Attr {
		if a.Name.Space == "xmlns" {
			if w, ok := want[a.Name.Local]; ok && w == a.Value {
				delete(want, a.Name.Local)
			}
		}
		if a.Name.Space == "" && a.Name.Local == "xmlns" {
			t.Errorf("root declares a default namespace %q", a.Value)
		}
	}
	if len(want) > 0 {
		t.Errorf("namespace declarations missing or wrong: %v", want)
	}
}
