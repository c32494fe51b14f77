package main

import (
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/computewps/computewps/internal/netcdf"
)

// The synthetic input: ten years of daily float32 on a 1° grid, one time
// step a chunk, as ../shared/reference/deps.md §5 measured the tools on.
const nt, ny, nx = 3650, 180, 360

// ensureInputs makes the input files unless they are there: the
// uncompressed file (a version in the name, so a change here makes new
// ones) and its deflate-1 copy. Each appears only when complete.
func ensureInputs(dir string) (map[string]string, error) {
	plain := filepath.Join(dir, "tas_v1.nc")
	d1 := filepath.Join(dir, "tas_v1_d1.nc")
	if _, err := os.Stat(plain); err != nil {
		fmt.Fprintf(os.Stderr, "writing %s ...\n", plain)
		if err := writeInput(plain + ".part"); err != nil {
			os.Remove(plain + ".part")
			return nil, err
		}
		if err := os.Rename(plain+".part", plain); err != nil {
			return nil, err
		}
		os.Remove(d1)
	}
	if _, err := os.Stat(d1); err != nil {
		fmt.Fprintf(os.Stderr, "writing %s ...\n", d1)
		out, err := exec.Command("nccopy", "-d", "1", "-c", "time/1,lat/180,lon/360", plain, d1+".part").CombinedOutput()
		if err != nil {
			os.Remove(d1 + ".part")
			return nil, fmt.Errorf("nccopy: %v: %s", err, out)
		}
		if err := os.Rename(d1+".part", d1); err != nil {
			return nil, err
		}
	}
	return map[string]string{"plain": plain, "deflate1": d1}, nil
}

// writeInput writes tas(time, lat, lon) with CF coordinates and bounds, a
// noleap calendar and CMIP's fill value: a zonal climate with a seasonal
// cycle and a travelling wave, so every step and cell differ.
func writeInput(path string) (err error) {
	f, err := netcdf.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	must := func(id int, e error) int {
		if err == nil {
			err = e
		}
		return id
	}
	attr := func(id int, name string, v any) {
		if err == nil {
			err = f.PutAttr(id, netcdf.Attr{Name: name, Value: v})
		}
	}
	t := must(f.DefDim("time", 0))
	y := must(f.DefDim("lat", ny))
	x := must(f.DefDim("lon", nx))
	b := must(f.DefDim("bnds", 2))
	tid := must(f.DefVar("time", netcdf.Double, []int{t}))
	attr(tid, "standard_name", "time")
	attr(tid, "units", "days since 2000-01-01")
	attr(tid, "calendar", "noleap")
	attr(tid, "axis", "T")
	attr(tid, "bounds", "time_bnds")
	tb := must(f.DefVar("time_bnds", netcdf.Double, []int{t, b}))
	yid := must(f.DefVar("lat", netcdf.Double, []int{y}))
	attr(yid, "standard_name", "latitude")
	attr(yid, "units", "degrees_north")
	attr(yid, "axis", "Y")
	attr(yid, "bounds", "lat_bnds")
	yb := must(f.DefVar("lat_bnds", netcdf.Double, []int{y, b}))
	xid := must(f.DefVar("lon", netcdf.Double, []int{x}))
	attr(xid, "standard_name", "longitude")
	attr(xid, "units", "degrees_east")
	attr(xid, "axis", "X")
	attr(xid, "bounds", "lon_bnds")
	xb := must(f.DefVar("lon_bnds", netcdf.Double, []int{x, b}))
	vid := must(f.DefVar("tas", netcdf.Float, []int{t, y, x}))
	attr(vid, "standard_name", "air_temperature")
	attr(vid, "long_name", "Near-Surface Air Temperature")
	attr(vid, "units", "K")
	attr(vid, "cell_methods", "time: mean")
	attr(vid, "_FillValue", []float32{1e20})
	attr(vid, "missing_value", []float32{1e20})
	attr(netcdf.Global, "Conventions", "CF-1.7")
	attr(netcdf.Global, "title", "ComputeWPS benchmark input (synthetic)")
	if err != nil {
		return err
	}
	if err := f.SetChunking(vid, []int{1, ny, nx}); err != nil {
		return err
	}
	if err := f.EndDef(); err != nil {
		return err
	}
	lat, latB := make([]float64, ny), make([]float64, 2*ny)
	for j := range lat {
		lat[j] = -89.5 + float64(j)
		latB[2*j], latB[2*j+1] = lat[j]-0.5, lat[j]+0.5
	}
	lon, lonB := make([]float64, nx), make([]float64, 2*nx)
	for i := range lon {
		lon[i] = float64(i)
		lonB[2*i], lonB[2*i+1] = lon[i]-0.5, lon[i]+0.5
	}
	for _, w := range []struct {
		id    int
		count []int
		v     []float64
	}{{yid, []int{ny}, lat}, {yb, []int{ny, 2}, latB}, {xid, []int{nx}, lon}, {xb, []int{nx, 2}, lonB}} {
		if err := f.Write(w.id, make([]int, len(w.count)), w.count, w.v); err != nil {
			return err
		}
	}
	// The field is base + season(t)·amp(lat) + a wave moving east.
	base, amp := make([]float64, ny*nx), make([]float64, ny)
	for j := range ny {
		phi := lat[j] * math.Pi / 180
		amp[j] = 12 * math.Sin(phi)
		for i := range nx {
			base[j*nx+i] = 258 + 40*math.Cos(phi) + 2*math.Sin(3*lon[i]*math.Pi/180+phi)
		}
	}
	wave := make([]float64, nx)
	for i := range wave {
		wave[i] = 1.5 * math.Sin(float64(i)*math.Pi/45)
	}
	slab := make([]float64, ny*nx)
	for d := range nt {
		s := math.Sin(2 * math.Pi * (float64(d%365) - 80) / 365)
		for j := range ny {
			a := s * amp[j]
			row := slab[j*nx : (j+1)*nx]
			for i := range row {
				row[i] = base[j*nx+i] + a + wave[(i+3*d)%nx]
			}
		}
		if err := f.Write(tid, []int{d}, []int{1}, []float64{float64(d) + 0.5}); err != nil {
			return err
		}
		if err := f.Write(tb, []int{d, 0}, []int{1, 2}, []float64{float64(d), float64(d + 1)}); err != nil {
			return err
		}
		if err := f.Write(vid, []int{d, 0, 0}, []int{1, ny, nx}, slab); err != nil {
			return err
		}
	}
	return nil
}
