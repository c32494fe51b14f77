package wps

import (
	"embed"
	"strings"
	"text/template"
	"unicode/utf8"
)

//go:embed templates/*.xml
var templateFS embed.FS

// templates holds every document. Each action must pass its value through
// x (element text) or a (attribute value); TestTemplatesEscapeEveryAction
// enforces it, because text/template itself escapes nothing.
var templates = template.Must(template.New("wps").
	Funcs(template.FuncMap{"x": escapeText, "a": escapeAttr}).
	ParseFS(templateFS, "templates/*.xml"))

const defaultLanguage = "en-US"

func escapeText(s string) string { return escapeXML(s, false) }
func escapeAttr(s string) string { return escapeXML(s, true) }

// escapeXML escapes markup characters and drops characters that XML 1.0
// forbids (most C0 controls), so no input can make a document ill-formed.
// Invalid UTF-8 becomes U+FFFD. Attributes are always double-quoted, so only
// there is '"' escaped, keeping JSON text readable. Tab and newline in
// attributes, and carriage return anywhere, are written as references
// because parsers would otherwise normalise them.
func escapeXML(s string, attr bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		i += size
		if r == utf8.RuneError && size == 1 {
			b.WriteRune('\uFFFD')
			continue
		}
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"' && attr:
			b.WriteString("&quot;")
		case r == '\r':
			b.WriteString("&#xD;")
		case r == '\n' && attr:
			b.WriteString("&#xA;")
		case r == '\t' && attr:
			b.WriteString("&#x9;")
		case !isXMLChar(r):
			// dropped
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isXMLChar reports whether r is in the XML 1.0 Char production.
func isXMLChar(r rune) bool {
	return r == '\t' || r == '\n' || r == '\r' ||
		(r >= 0x20 && r <= 0xD7FF) ||
		(r >= 0xE000 && r <= 0xFFFD) ||
		(r >= 0x10000 && r <= 0x10FFFF)
}

// joinQuery appends a query to a URL that may already have one.
func joinQuery(url, query string) string {
	switch {
	case !strings.Contains(url, "?"):
		return url + "?" + query
	case strings.HasSuffix(url, "?"), strings.HasSuffix(url, "&"):
		return url + query
	default:
		return url + "&" + query
	}
}
