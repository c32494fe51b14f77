// Package web renders the few HTML pages of ComputeWPS: client
// registration (the id and secret shown once) and errors of the browser
// flows. Everything goes through html/template, so all text is escaped.
package web

import (
	"bytes"
	"embed"
	"html/template"
	"net/http"
)

//go:embed templates/*.html
var files embed.FS

var pages = template.Must(template.ParseFS(files, "templates/*.html"))

// Page is the data of every page.
type Page struct {
	Title, User, Message   string
	ClientID, ClientSecret string
	TokenURL               string
	CSRF                   string
	Deliver, State         string // loopback address and state for handing credentials to a local program
	ScriptNonce            string
}

// Render writes a page with headers that keep secrets out of caches and
// referrers and allow only our own inline script.
func Render(w http.ResponseWriter, status int, name string, p Page) error {
	var buf bytes.Buffer
	if err := pages.ExecuteTemplate(&buf, name+".html", p); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	csp := "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http://127.0.0.1:* http://localhost:* http://[::1]:*; frame-ancestors 'none'"
	if p.ScriptNonce != "" {
		csp += "; script-src 'nonce-" + p.ScriptNonce + "'"
	}
	h.Set("Content-Security-Policy", csp)
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}
