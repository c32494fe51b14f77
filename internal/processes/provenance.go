package processes

import (
	"encoding/json"
	"sort"
	"time"

	"github.com/computewps/computewps/internal/workflow"
)

// ProvInfo is what a provenance document says about the run itself.
type ProvInfo struct {
	Job            int64
	User           string
	Server         string // the WPS endpoint
	Version        string // ComputeWPS version
	Started, Ended time.Time
	// OutputURL gives the URL of each output file.
	OutputURL func(Result) string
}

// ProvenanceJSON describes a finished run as a W3C PROV-JSON document: the
// inputs and outputs are entities, each operation an activity that used
// its inputs and generated its result, associated with the user and with
// ComputeWPS. Intermediate results are entities too, so the chain from any
// output back to the input files can be followed.
func ProvenanceJSON(w *workflow.Workflow, results []Result, info ProvInfo) ([]byte, error) {
	const ns = "cwps:"
	doc := map[string]any{
		"prefix": map[string]string{
			"cwps": info.Server + "#",
			"xsd":  "http://www.w3.org/2001/XMLSchema#",
		},
	}
	entity := map[string]any{}
	activity := map[string]any{}
	agent := map[string]any{
		ns + "user/" + info.User: map[string]any{"prov:type": "prov:Person", "prov:label": info.User},
		ns + "software":          map[string]any{"prov:type": "prov:SoftwareAgent", "prov:label": "ComputeWPS " + info.Version},
	}
	used := map[string]any{}
	generated := map[string]any{}
	associated := map[string]any{}
	derived := map[string]any{}
	n := 0
	id := func(kind string) string { n++; return "_:" + kind + itoa(n) }
	stamp := func(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

	names := make([]string, 0, len(w.Variables))
	for name := range w.Variables {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := w.Variables[name]
		entity[ns+"input/"+name] = map[string]any{
			"prov:type": "cwps:Variable", "prov:label": v.VarName, "prov:location": v.URI, "cwps:variable": v.VarName,
		}
	}
	node := func(name string) string {
		if _, ok := w.Variables[name]; ok {
			return ns + "input/" + name
		}
		return ns + "result/" + name
	}
	for _, op := range w.Order {
		act := ns + "job/" + itoa64(info.Job) + "/" + op.Result
		a := map[string]any{"prov:type": op.Identifier, "prov:label": op.Identifier + " (" + op.Result + ")",
			"prov:startTime": stamp(info.Started), "prov:endTime": stamp(info.Ended)}
		if d := w.DomainOf(op); d != nil {
			a["cwps:domain"] = d.JSON
		}
		if len(op.Params) > 0 {
			params, _ := json.Marshal(op.Params)
			a["cwps:parameters"] = string(params)
		}
		activity[act] = a
		for _, in := range op.Inputs {
			used[id("u")] = map[string]any{"prov:activity": act, "prov:entity": node(in)}
		}
		result := ns + "result/" + op.Result
		entity[result] = map[string]any{"prov:type": "cwps:Result", "prov:label": op.Result}
		generated[id("g")] = map[string]any{"prov:entity": result, "prov:activity": act, "prov:time": stamp(info.Ended)}
		associated[id("a")] = map[string]any{"prov:activity": act, "prov:agent": ns + "user/" + info.User}
		associated[id("a")] = map[string]any{"prov:activity": act, "prov:agent": ns + "software"}
	}
	for _, r := range results {
		out := ns + "output/" + r.Name
		e := map[string]any{"prov:type": "cwps:File", "prov:label": r.Name, "cwps:variable": r.VarID, "cwps:bytes": r.Size}
		if info.OutputURL != nil {
			e["prov:location"] = info.OutputURL(r)
		}
		entity[out] = e
		derived[id("d")] = map[string]any{"prov:generatedEntity": out, "prov:usedEntity": ns + "result/" + r.Op}
	}
	doc["entity"], doc["activity"], doc["agent"] = entity, activity, agent
	doc["used"], doc["wasGeneratedBy"], doc["wasAssociatedWith"], doc["wasDerivedFrom"] = used, generated, associated, derived
	return json.MarshalIndent(doc, "", "  ")
}

func itoa(n int) string { return itoa64(int64(n)) }

func itoa64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
