package processes

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/regrid"
	"github.com/computewps/computewps/internal/workflow"
)

func init() {
	applyGridder = regridDataset
	register(&Process{
		ProcessSpec: workflow.ProcessSpec{Identifier: "CDAT.regrid", MinInputs: 1, MaxInputs: 1, Params: commonParams},
		Title:       "Regrid",
		Abstract: "Remaps the input to another latitude/longitude grid, given by the operation's gridder " +
			"{\"tool\", \"method\", \"grid\"} (required). The grid is uniform~DLATxDLON (a global grid of DLAT by DLON " +
			"degree cells, centred from -90+DLAT/2 and DLON/2: uniform~2x2 is 90x180), " +
			"uniform~LAT0:NLAT:DLATxLON0:NLON:DLON (first centre, count and spacing of latitudes then longitudes), " +
			"gaussian~NLAT (NLAT Gaussian latitudes south to north, 2*NLAT longitudes from 0, cells bounded so that " +
			"their areas are the Gaussian weights), T21, T42, T63 or T85 (gaussian~32, 64, 96, 128), the name of a " +
			"variable of the request (its latitudes and longitudes, with their bounds), or the name of a domain of the " +
			"request (its lat and lon values from start to end, both included, step degrees apart). " +
			"Tool regrid2 (the default) is first-order conservative whatever the method; with tool esmf or xesmf the " +
			"method is linear/bilinear, conservative or nearest. Bilinear interpolates between the four surrounding " +
			"centres, across the 0/360 seam, and is missing where any of the four is missing; between the outermost " +
			"latitudes and the pole it averages the four nearest points by inverse distance, as CDO does. Conservative " +
			"averages the overlapping source cells by area over those that are not missing, and keeps the global " +
			"area-weighted mean. Nearest takes the nearest centre on the sphere. Targets outside the source's cells are " +
			"missing: nothing is extrapolated. A domain, if given, subsets the input first. A gridder on any other " +
			"operation regrids its result the same way.",
		Build: func(c *Call, in []ops.Dataset) (ops.Dataset, error) {
			if c.Op.Gridder == nil {
				return nil, &UserError{Text: "a gridder is required: {\"tool\", \"method\", \"grid\"}"}
			}
			// The runner applies the operation's gridder to what Build returns.
			return c.Subset(in[0])
		},
	})
}

// regridDataset puts every variable of ds that has latitude and longitude
// dimensions on the gridder's grid; the others pass through.
func regridDataset(c *Call, ds ops.Dataset, g *workflow.Gridder) (ops.Dataset, error) {
	method, err := regrid.MethodOf(g.Tool, g.Method)
	if err != nil {
		return nil, &UserError{Text: err.Error()}
	}
	target, err := c.targetGrid(g.Grid)
	if err != nil {
		return nil, err
	}
	type cached struct {
		src  *regrid.Grid
		plan *regrid.Plan
	}
	var plans []cached // one per distinct source grid
	out := make(ops.Dataset, len(ds))
	var gridDims []string
	for i, a := range ds {
		m := a.Meta()
		src, lat, lon, err := ops.GridOf(m)
		if errors.Is(err, ops.ErrNoGrid) {
			out[i] = a
			continue
		}
		if err != nil {
			return nil, &UserError{Text: err.Error()}
		}
		k := slices.IndexFunc(plans, func(p cached) bool { return sameGrid(p.src, src) })
		if k < 0 {
			p, err := regrid.NewPlan(src, target, method)
			if err != nil {
				return nil, &UserError{Text: fmt.Sprintf("variable %q: %v", m.Name, err)}
			}
			plans = append(plans, cached{src, p})
			k = len(plans) - 1
		}
		if out[i], err = ops.Regrid(a, plans[k].plan); err != nil {
			return nil, err
		}
		c.Progress(fmt.Sprintf("Regrid '%s' %dx%d -> %dx%d (%s)", m.Name, len(src.Lat), len(src.Lon), len(target.Lat), len(target.Lon), method))
		gridDims = append(gridDims, m.Dims[lat].Name, m.Dims[lon].Name)
	}
	if len(plans) == 0 {
		return nil, &UserError{Text: fmt.Sprintf("nothing to regrid: %s", describeDims(ds))}
	}
	// A variable on only one of the regridded dimensions (a zonal mean)
	// would no longer agree with the others.
	for i, a := range out {
		if a != ds[i] {
			continue
		}
		for _, d := range a.Meta().Dims {
			if slices.Contains(gridDims, d.Name) {
				return nil, &UserError{Text: fmt.Sprintf("variable %q has dimension %q but not both latitude and longitude, so it cannot be regridded with the others", a.Meta().Name, d.Name)}
			}
		}
	}
	return out, nil
}

// describeDims says which dimensions the variables have, for the error
// when none has latitude and longitude.
func describeDims(ds ops.Dataset) string {
	var parts []string
	for _, a := range ds {
		m := a.Meta()
		names := make([]string, len(m.Dims))
		for k, d := range m.Dims {
			names[k] = d.Name
		}
		parts = append(parts, fmt.Sprintf("variable %q has dimensions (%s) and no latitude and longitude in degrees", m.Name, strings.Join(names, ", ")))
	}
	return strings.Join(parts, "; ")
}

func sameGrid(a, b *regrid.Grid) bool {
	return slices.Equal(a.Lat, b.Lat) && slices.Equal(a.Lon, b.Lon) &&
		slices.Equal(a.LatBounds, b.LatBounds) && slices.Equal(a.LonBounds, b.LonBounds)
}

// targetGrid resolves a gridder's grid: a domain or a variable of the
// request by name, else a grid description.
func (c *Call) targetGrid(name string) (*regrid.Grid, error) {
	w := c.r.w
	if d, ok := w.Domains[name]; ok {
		g, err := regrid.FromDomain(domainRanges(d))
		if err != nil {
			return nil, &UserError{Text: fmt.Sprintf("domain '%s' is not a valid target grid: %v", name, err)}
		}
		return g, nil
	}
	if _, ok := w.Variables[name]; ok {
		// Opening reads only metadata and coordinates; Build has no
		// context of its own to pass.
		ds, err := c.r.input(c.Context(), name)
		if err != nil {
			return nil, err
		}
		for _, a := range ds {
			g, _, _, err := ops.GridOf(a.Meta())
			if err != nil {
				return nil, &UserError{Text: fmt.Sprintf("variable '%s' named as the target grid: %v", name, err)}
			}
			if n := len(g.Lat) * len(g.Lon); n > regrid.MaxCells {
				return nil, &UserError{Text: fmt.Sprintf("variable '%s' named as the target grid has %d cells, more than the %d a target grid may have", name, n, regrid.MaxCells)}
			}
			return g, nil
		}
	}
	g, err := regrid.ParseGrid(name)
	if err != nil {
		return nil, &UserError{Text: fmt.Sprintf("target grid '%s' is not valid: %v", name, err)}
	}
	return g, nil
}

// domainRanges gives a domain's dimensions to regrid.FromDomain.
func domainRanges(d *workflow.Domain) []regrid.Range {
	rs := make([]regrid.Range, len(d.Dims))
	for i, dim := range d.Dims {
		rs[i] = regrid.Range{Name: dim.Name, Start: dim.Start.Num, End: dim.End.Num, Step: float64(dim.Step), Values: dim.CRS == workflow.Values}
	}
	return rs
}
