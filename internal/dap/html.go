package dap

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/computewps/computewps/internal/netcdf"
)

// htmlPage is the dataset access form: the variables with their shapes
// and attributes, and a constraint box that builds .ascii and .dods URLs.
var htmlPage = template.Must(template.New("dataset").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Name}} - OPeNDAP dataset</title>
<style>
body { font-family: sans-serif; margin: 1.5em; max-width: 70em; }
code, input[type=text] { font-family: monospace; }
table { border-collapse: collapse; margin: 0.3em 0 1em 2em; }
td { padding: 0.1em 0.8em 0.1em 0; vertical-align: top; }
td.t { color: #666; }
h3 { margin: 1em 0 0.2em; font-size: 1em; }
</style>
</head>
<body>
<h1>{{.Name}}</h1>
<p>OPeNDAP (DAP2) dataset. Open it by this page's URL without <code>.html</code>, or read
<a href="{{.Name}}.dds">its structure (DDS)</a>, <a href="{{.Name}}.das">its attributes (DAS)</a>,
or data with the form.</p>
<form id="ce-form">
<p><label>Constraint expression (for example <code>tas[0:1:9][0][0:2:71],lat</code>; empty for everything)<br>
<input type="text" id="ce" size="90"></label></p>
<p><button type="submit" value="ascii">Get ASCII</button> <button type="submit" value="dods">Get binary (.dods)</button></p>
</form>
<h2>Variables</h2>
{{range .Vars}}
<h3><label><input type="checkbox" class="var" value="{{.CE}}"> <code>{{.Decl}}</code></label></h3>
{{if .Maps}}<div>Grid with maps {{range $i, $m := .Maps}}{{if $i}}, {{end}}<code>{{$m}}</code>{{end}}</div>{{end}}
{{if .Attrs}}<table>{{range .Attrs}}<tr><td><code>{{.Name}}</code></td><td class="t">{{.Type}}</td><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
{{end}}
{{if .Globals}}<h2>Global attributes</h2>
<table>{{range .Globals}}<tr><td><code>{{.Name}}</code></td><td class="t">{{.Type}}</td><td>{{.Value}}</td></tr>{{end}}</table>{{end}}
<script>
(function () {
  var name = {{.Name}};
  var form = document.getElementById("ce-form");
  var box = document.getElementById("ce");
  document.querySelectorAll("input.var").forEach(function (c) {
    c.addEventListener("change", function () {
      var names = [];
      document.querySelectorAll("input.var:checked").forEach(function (x) { names.push(x.value); });
      box.value = names.join(",");
    });
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var ext = e.submitter && e.submitter.value === "dods" ? "dods" : "ascii";
    var ce = box.value.trim();
    location.href = encodeURIComponent(name) + "." + ext + (ce ? "?" + encodeURIComponent(ce) : "");
  });
})();
</script>
</body>
</html>
`))

type htmlAttr struct{ Name, Type, Value string }

type htmlVar struct {
	CE    string // the name as a constraint writes it
	Decl  string
	Maps  []string
	Attrs []htmlAttr
}

func htmlAttrs(attrs []netcdf.Attr) []htmlAttr {
	out := make([]htmlAttr, 0, len(attrs))
	for _, a := range attrs {
		t, vals := attrValues(a)
		if len(vals) == 0 {
			continue
		}
		value := strings.Join(vals, ", ")
		if s, ok := a.Value.(string); ok {
			value = s // text reads better unquoted
		}
		out = append(out, htmlAttr{a.Name, t.String(), value})
	}
	return out
}

func (h *Handler) html(w http.ResponseWriter, r *http.Request, ds *dataset) {
	data := struct {
		Name    string
		Vars    []htmlVar
		Globals []htmlAttr
	}{Name: ds.name, Globals: htmlAttrs(ds.globals)}
	for _, v := range ds.vars {
		var decl strings.Builder
		fmt.Fprintf(&decl, "%s %s", v.typ, v.name)
		for _, d := range v.dims {
			fmt.Fprintf(&decl, "[%s = %d]", d.name, d.len)
		}
		hv := htmlVar{CE: escName(v.name), Decl: decl.String(), Attrs: htmlAttrs(v.attrs)}
		for _, m := range v.maps {
			hv.Maps = append(hv.Maps, m.name)
		}
		data.Vars = append(data.Vars, hv)
	}
	var buf bytes.Buffer
	if err := htmlPage.Execute(&buf, data); err != nil {
		h.fail(w, r, err)
		return
	}
	h.start(w, "dods-html", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}
