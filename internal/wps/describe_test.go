package wps

import (
	"bytes"
	"testing"
)

func TestWriteProcessDescriptions(t *testing.T) {
	for _, tc := range []struct {
		golden string
		procs  []ProcessInfo
	}{
		{"describe_one.xml", testProcesses[:1]},
		{"describe_two.xml", testProcesses},
	} {
		t.Run(tc.golden, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteProcessDescriptions(&buf, testService, tc.procs); err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tc.golden, buf.Bytes())

			root := parseDoc(t, buf.Bytes())
			checkRoot(t, root, wpsName("ProcessDescriptions"),
				"http://www.opengis.net/wps/1.0.0 http://schemas.opengis.net/wps/1.0.0/wpsDescribeProcess_response.xsd", "en-US")
			// OWSLib finds nothing ("process not found") unless
			// ProcessDescription and its DataInputs/ProcessOutputs are unqualified.
			descs := root.all(bare("ProcessDescription"))
			if len(descs) != len(tc.procs) {
				t.Fatalf("%d unqualified ProcessDescription elements, want %d", len(descs), len(tc.procs))
			}
			for i, d := range descs {
				p := tc.procs[i]
				if v, ok := d.attr(NSWPS, "processVersion"); !ok || v != p.Version {
					t.Errorf("wps:processVersion = %q, %v", v, ok)
				}
				for _, a := range []string{"storeSupported", "statusSupported"} {
					if v, _ := d.attr("", a); v != "true" {
						t.Errorf("%s = %q", a, v)
					}
				}
				if got := d.path(t, owsName("Identifier")).text(); got != p.Identifier {
					t.Errorf("Identifier = %q", got)
				}
				if got := d.path(t, owsName("Title")).text(); got != p.withDefaults().Title {
					t.Errorf("Title = %q", got)
				}
				inputs := d.path(t, bare("DataInputs")).all(bare("Input"))
				if len(inputs) != 3 {
					t.Fatalf("%d inputs, want 3", len(inputs))
				}
				for j, id := range []string{"variable", "domain", "operation"} {
					in := inputs[j]
					if got := in.path(t, owsName("Identifier")).text(); got != id {
						t.Errorf("input %d = %q, want %q", j, got, id)
					}
					for _, a := range []string{"minOccurs", "maxOccurs"} {
						if v, _ := in.attr("", a); v != "1" {
							t.Errorf("%s %s = %q", id, a, v)
						}
					}
					// cwt returns None for all inputs when one lacks a Default Format.
					mt := in.path(t, bare("ComplexData"), bare("Default"), bare("Format"), bare("MimeType")).text()
					if mt != "application/json" {
						t.Errorf("%s default MimeType = %q", id, mt)
					}
					in.path(t, bare("ComplexData"), bare("Supported"), bare("Format"), bare("MimeType"))
				}
				out := d.path(t, bare("ProcessOutputs"), bare("Output"))
				if got := out.path(t, owsName("Identifier")).text(); got != "output" {
					t.Errorf("output Identifier = %q", got)
				}
				mt := out.path(t, bare("ComplexOutput"), bare("Default"), bare("Format"), bare("MimeType")).text()
				if mt != "application/json" {
					t.Errorf("output MimeType = %q", mt)
				}
			}
		})
	}
}

func TestWriteProcessDescriptionsNone(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteProcessDescriptions(&buf, testService, nil); err == nil {
		t.Error("no error for an empty list")
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes on error", buf.Len())
	}
}
