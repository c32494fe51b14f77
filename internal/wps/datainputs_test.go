package wps

import (
	"reflect"
	"testing"
)

func TestParseDataInputs(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Input
	}{
		{"", nil},
		{"  ", nil},
		{"[]", nil},
		{"a=1", []Input{{Identifier: "a", Value: "1"}}},
		{"A=true;b=null;c=\"s;t=u\";d={\"k\":[1,2]}", []Input{
			{Identifier: "a", Value: "true"}, {Identifier: "b", Value: "null"},
			{Identifier: "c", Value: `"s;t=u"`}, {Identifier: "d", Value: `{"k":[1,2]}`}}},
		{`[v=[{"a":"]"}]]`, []Input{{Identifier: "v", Value: `[{"a":"]"}]`}}},
		{`v=["@x"]@mimeType=application/json@schema=http://s/x.json;w=2;`, []Input{
			{Identifier: "v", Value: `["@x"]`, MimeType: "application/json"}, {Identifier: "w", Value: "2"}}},
		{"v=1;v=2", []Input{{Identifier: "v", Value: "1"}, {Identifier: "v", Value: "2"}}},
	} {
		got, err := parseDataInputs(tc.in)
		if err != nil {
			t.Errorf("%q: %v", tc.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q = %+v, want %+v", tc.in, got, tc.want)
		}
	}
}

func TestParseDataInputsErrors(t *testing.T) {
	for _, tc := range []struct {
		in, locator string
		fragments   []string
	}{
		{`variable=[1];domain=[{"id":}]`, "domain", []string{"not valid JSON", "at byte 8 of the value"}},
		{`variable=[1,`, "variable", []string{"ends at byte 3"}},
		{`variable=`, "variable", []string{"empty"}},
		{`variable=;domain=[]`, "variable", []string{"not valid JSON", "at byte 1"}},
		{`variable=abc`, "variable", []string{"not valid JSON"}},
		{`variable=[1]domain=[2]`, "variable", []string{`unexpected "d"`, "byte 13", "separate inputs with ;"}},
		{`variable=[1]@mimeType`, "variable", []string{"@name=value"}},
		{`[variable=1`, "datainputs", []string{"does not end with ]"}},
		{`=[1]`, "datainputs", []string{"at byte 1", "name=value"}},
		{`variable`, "datainputs", []string{"name=value"}},
		{`v=[1];[w=2]`, "datainputs", []string{"at byte 7"}},
		{` [v=[1];[w=2]]`, "datainputs", []string{"at byte 9"}},
		{`v=["a",+"b"]`, "v", []string{`"+" in DataInputs is not read as a space`}},
		{"v=\"\xff\"", "v", []string{"UTF-8"}},
	} {
		_, err := parseDataInputs(tc.in)
		if err == nil {
			t.Errorf("%q: no error", tc.in)
			continue
		}
		t.Run(tc.in, func(t *testing.T) {
			wantException(t, err, InvalidParameterValue, tc.locator, tc.fragments...)
		})
	}
}
