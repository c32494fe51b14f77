// Package sample writes the small CF-compliant dataset that `make run`
// serves, so that a new installation has something to compute on.
package sample

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/computewps/computewps/internal/netcdf"
)

// Files are the sample files, relative to the sample directory.
var Files = []string{"tas_day_2000.nc", "tas_day_2001.nc", "pr_mon_360day.nc"}

// Grid of every sample file: 5° cells, centred.
const (
	NLat = 36 // -87.5 .. 87.5
	NLon = 72 // 0 .. 355
)

// Lat and Lon give the coordinate values of the sample grid.
func Lat(j int) float64 { return -87.5 + 5*float64(j) }

// Lon gives the longitude of column i.
func Lon(i int) float64 { return 5 * float64(i) }

// Tas is the daily near-surface temperature on day d since 2000-01-01
// (noleap calendar) at latitude j and longitude i: a smooth field with a
// seasonal cycle, so subsets are easy to check. It is rounded to float32,
// as stored.
func Tas(d, j, i int) float64 {
	lat, lon := Lat(j)*math.Pi/180, Lon(i)*math.Pi/180
	season := math.Cos(2 * math.Pi * float64(d%365-15) / 365)
	return float64(float32(273.15 + 30*math.Cos(lat) - 15*math.Sin(lat)*season + 2*math.Sin(lon) + 0.01*float64(d)))
}

// Pr is the monthly precipitation in month m since 2000-01 (360_day
// calendar). It is missing (NaN here, _FillValue in the file) in one corner
// of the grid, to exercise missing values.
func Pr(m, j, i int) float64 {
	if j < 3 && i < 3 {
		return math.NaN()
	}
	lat := Lat(j) * math.Pi / 180
	return float64(float32(1e-5 * (2 + math.Cos(lat)*math.Cos(2*math.Pi*float64(m%12)/12) + float64(i%7)/10)))
}

// Ensure writes the sample files into dir unless they are all there, and
// reports whether it wrote them.
func Ensure(dir string) (bool, error) {
	missing := false
	for _, f := range Files {
		if _, err := os.Stat(filepath.Join(dir, f)); errors.Is(err, os.ErrNotExist) {
			missing = true
		}
	}
	if !missing {
		return false, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, err
	}
	for year := 2000; year <= 2001; year++ {
		first := (year - 2000) * 365
		err := write(filepath.Join(dir, fmt.Sprintf("tas_day_%d.nc", year)), spec{
			name: "tas", units: "K", standardName: "air_temperature", longName: "Near-Surface Air Temperature",
			timeUnits: "days since 2000-01-01 00:00:00", calendar: "noleap", steps: 365,
			time:  func(t int) (float64, float64, float64) { d := float64(first + t); return d + 0.5, d, d + 1 },
			value: func(t, j, i int) float64 { return Tas(first+t, j, i) },
			title: fmt.Sprintf("Daily near-surface air temperature, %d (sample)", year),
		})
		if err != nil {
			return false, err
		}
	}
	err := write(filepath.Join(dir, "pr_mon_360day.nc"), spec{
		name: "pr", units: "kg m-2 s-1", standardName: "precipitation_flux", longName: "Precipitation",
		timeUnits: "days since 2000-01-01", calendar: "360_day", steps: 24,
		time:  func(t int) (float64, float64, float64) { d := 30 * float64(t); return d + 15, d, d + 30 },
		value: Pr,
		title: "Monthly precipitation, 2000-2001, 360-day calendar (sample)",
	})
	return err == nil, err
}

type spec struct {
	name, units, standardName, longName string
	timeUnits, calendar                 string
	steps                               int
	time                                func(t int) (mid, lo, hi float64)
	value                               func(t, j, i int) float64
	title                               string
}

// write creates one file; errors are collected by a small helper so the
// sequence of definitions reads top to bottom.
func write(path string, s spec) error {
	tmp := path + ".part"
	f, err := netcdf.Create(tmp)
	if err != nil {
		return err
	}
	w := &fileWriter{f: f}
	tdim, latDim, lonDim, bnds := w.dim("time", 0), w.dim("lat", NLat), w.dim("lon", NLon), w.dim("bnds", 2)
	text := func(name, v string) netcdf.Attr { return netcdf.Attr{Name: name, Value: v} }
	tid := w.variable("time", netcdf.Double, []int{tdim}, text("standard_name", "time"), text("long_name", "time"),
		text("units", s.timeUnits), text("calendar", s.calendar), text("axis", "T"), text("bounds", "time_bnds"))
	bid := w.variable("time_bnds", netcdf.Double, []int{tdim, bnds})
	lat := w.variable("lat", netcdf.Double, []int{latDim}, text("standard_name", "latitude"), text("long_name", "latitude"),
		text("units", "degrees_north"), text("axis", "Y"))
	lon := w.variable("lon", netcdf.Double, []int{lonDim}, text("standard_name", "longitude"), text("long_name", "longitude"),
		text("units", "degrees_east"), text("axis", "X"))
	vid := w.variable(s.name, netcdf.Float, []int{tdim, latDim, lonDim}, text("standard_name", s.standardName),
		text("long_name", s.longName), text("units", s.units),
		netcdf.Attr{Name: "_FillValue", Value: []float32{1e20}}, netcdf.Attr{Name: "missing_value", Value: []float32{1e20}})
	if w.err == nil {
		w.err = f.SetDeflate(vid, true, 1)
	}
	for _, a := range []netcdf.Attr{text("Conventions", "CF-1.8"), text("title", s.title),
		text("institution", "ComputeWPS"), text("source", "analytic fields for demonstration and tests")} {
		w.attr(netcdf.Global, a)
	}
	if w.err == nil {
		w.err = f.EndDef()
	}
	lats, lons := make([]float64, NLat), make([]float64, NLon)
	for j := range lats {
		lats[j] = Lat(j)
	}
	for i := range lons {
		lons[i] = Lon(i)
	}
	w.put(lat, []int{0}, []int{NLat}, lats)
	w.put(lon, []int{0}, []int{NLon}, lons)
	slab := make([]float64, NLat*NLon)
	for t := 0; t < s.steps; t++ {
		mid, lo, hi := s.time(t)
		w.put(tid, []int{t}, []int{1}, []float64{mid})
		w.put(bid, []int{t, 0}, []int{1, 2}, []float64{lo, hi})
		for j := 0; j < NLat; j++ {
			for i := 0; i < NLon; i++ {
				v := s.value(t, j, i)
				if math.IsNaN(v) {
					v = float64(float32(1e20))
				}
				slab[j*NLon+i] = v
			}
		}
		w.put(vid, []int{t, 0, 0}, []int{1, NLat, NLon}, slab)
	}
	if err := f.Close(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		os.Remove(tmp)
		return w.err
	}
	return os.Rename(tmp, path)
}

type fileWriter struct {
	f   *netcdf.File
	err error
}

func (w *fileWriter) dim(name string, n int) int {
	if w.err != nil {
		return 0
	}
	id, err := w.f.DefDim(name, n)
	w.err = err
	return id
}

func (w *fileWriter) variable(name string, t netcdf.Type, dims []int, attrs ...netcdf.Attr) int {
	if w.err != nil {
		return 0
	}
	id, err := w.f.DefVar(name, t, dims)
	w.err = err
	for _, a := range attrs {
		w.attr(id, a)
	}
	return id
}

func (w *fileWriter) attr(id int, a netcdf.Attr) {
	if w.err == nil {
		w.err = w.f.PutAttr(id, a)
	}
}

func (w *fileWriter) put(id int, start, count []int, data []float64) {
	if w.err == nil {
		w.err = w.f.Write(id, start, count, data)
	}
}
