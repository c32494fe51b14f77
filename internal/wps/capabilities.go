package wps

import (
	"bytes"
	"fmt"
	"io"
)

// ServiceInfo describes this WPS service in every document.
type ServiceInfo struct {
	URL string // absolute WPS endpoint, e.g. http://127.0.0.1:8000/wps (used for DCP hrefs and serviceInstance)

	Title, Abstract string
	Keywords        []string

	ProviderName, ProviderSite string

	ContactName, ContactPosition, ContactPhone string

	AddressDelivery, AddressCity, AddressArea, AddressPostal, AddressCountry, AddressEmail string

	Language string // default "en-US" when empty
}

func (s ServiceInfo) language() string {
	if s.Language == "" {
		return defaultLanguage
	}
	return s.Language
}

// ProcessInfo describes one offered process.
type ProcessInfo struct {
	Identifier string
	Title      string // defaults to Identifier when empty
	Abstract   string
	Version    string // defaults to "1.0.0" when empty: OWSLib needs a processVersion
}

// withDefaults fills the fields that documents must not leave empty.
func (p ProcessInfo) withDefaults() ProcessInfo {
	if p.Title == "" {
		p.Title = p.Identifier
	}
	if p.Version == "" {
		p.Version = Version
	}
	return p
}

func processViews(procs []ProcessInfo) []ProcessInfo {
	out := make([]ProcessInfo, len(procs))
	for i, p := range procs {
		out[i] = p.withDefaults()
	}
	return out
}

// WriteCapabilities writes the GetCapabilities answer listing procs in order.
func WriteCapabilities(w io.Writer, svc ServiceInfo, procs []ProcessInfo) error {
	svc.Language = svc.language()
	data := struct {
		Svc               ServiceInfo
		GetHref, PostHref string
		Operations        []string
		Processes         []ProcessInfo
	}{
		Svc: svc,
		// A KVP GET href ends with "?" (or "&") so clients can append parameters.
		GetHref:    joinQuery(svc.URL, ""),
		PostHref:   svc.URL,
		Operations: []string{opGetCapabilities, opDescribeProcess, opExecute},
		Processes:  processViews(procs),
	}
	return render(w, "capabilities.xml", data)
}

// render executes a template into memory first, so a failure never leaves a
// half-written document on the wire.
func render(w io.Writer, name string, data any) error {
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("wps: render %s: %w", name, err)
	}
	_, err := w.Write(buf.Bytes())
	return err
}
