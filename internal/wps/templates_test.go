package wps

import (
	"testing"
	"text/template"
	"text/template/parse"
)

// unescapedActions lists the actions of tmpl that print a value without
// passing it through x or a.
func unescapedActions(tmpl *template.Template) []string {
	var bad []string
	var walk func(parse.Node)
	walk = func(n parse.Node) {
		switch n := n.(type) {
		case *parse.ListNode:
			if n == nil {
				return
			}
			for _, c := range n.Nodes {
				walk(c)
			}
		case *parse.ActionNode:
			cmds := n.Pipe.Cmds
			id, ok := cmds[len(cmds)-1].Args[0].(*parse.IdentifierNode)
			if len(n.Pipe.Decl) > 0 || !ok || (id.Ident != "x" && id.Ident != "a") {
				bad = append(bad, n.String())
			}
		case *parse.IfNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.RangeNode:
			walk(n.List)
			walk(n.ElseList)
		case *parse.WithNode:
			walk(n.List)
			walk(n.ElseList)
		}
	}
	if tmpl.Tree != nil {
		walk(tmpl.Tree.Root)
	}
	return bad
}

// TestTemplatesEscapeEveryAction guards the rule that keeps documents
// well-formed whatever the data: every printed value goes through x or a.
func TestTemplatesEscapeEveryAction(t *testing.T) {
	for _, tmpl := range templates.Templates() {
		for _, a := range unescapedActions(tmpl) {
			t.Errorf("%s: action %s is not escaped with x or a", tmpl.Name(), a)
		}
	}
	// The check itself must catch a raw value.
	funcs := template.FuncMap{"x": escapeText, "a": escapeAttr}
	bad := template.Must(template.New("bad").Funcs(funcs).Parse(`{{x .A}}{{if .B}}{{.B}}{{end}}{{range .C}}{{. | printf "%s"}}{{end}}`))
	if got := unescapedActions(bad); len(got) != 2 {
		t.Errorf("checker found %v, want the 2 raw actions", got)
	}
}

func TestEscapeXML(t *testing.T) {
	for _, tc := range []struct{ in, text, attr string }{
		{`a<b>&"c"'d'`, `a&lt;b&gt;&amp;"c"'d'`, `a&lt;b&gt;&amp;&quot;c&quot;'d'`},
		{"t\tn\nr\r", "t\tn\nr&#xD;", "t&#x9;n&#xA;r&#xD;"},
		{"nul\x00bel\x07del\x7fok", "nulbeldel\x7fok", "nulbeldel\x7fok"},
		{"bad\xffutf8 \uFFFE\uFFFF", "bad\uFFFDutf8 ", "bad\uFFFDutf8 "},
		{"]]>", "]]&gt;", "]]&gt;"},
		{"émoji 🌍", "émoji 🌍", "émoji 🌍"},
	} {
		if got := escapeText(tc.in); got != tc.text {
			t.Errorf("escapeText(%q) = %q, want %q", tc.in, got, tc.text)
		}
		if got := escapeAttr(tc.in); got != tc.attr {
			t.Errorf("escapeAttr(%q) = %q, want %q", tc.in, got, tc.attr)
		}
	}
}
