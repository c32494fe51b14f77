package ops

import (
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/workflow"
)

// The benchmark input: a year of daily float32 data on a 1° grid (95 MB),
// unfiltered, like many CMIP files.
const benchT, benchY, benchX = 365, 180, 360

var (
	benchOnce sync.Once
	benchDir  string
	benchPath string
	benchErr  error
)

func benchFile(b *testing.B) string {
	b.Helper()
	benchOnce.Do(func() {
		var dir string
		if dir, benchErr = os.MkdirTemp("", "ops-bench-"); benchErr == nil {
			benchDir = dir
			benchPath = filepath.Join(dir, "bench_tas.nc")
			benchErr = writeBenchFile(benchPath)
		}
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchPath
}

func writeBenchFile(path string) error {
	f, err := netcdf.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	t, _ := f.DefDim("time", 0)
	y, _ := f.DefDim("lat", benchY)
	x, _ := f.DefDim("lon", benchX)
	tid, _ := f.DefVar("time", netcdf.Double, []int{t})
	f.PutAttr(tid, netcdf.Attr{Name: "units", Value: "days since 2000-01-01"})
	f.PutAttr(tid, netcdf.Attr{Name: "calendar", Value: "noleap"})
	yid, _ := f.DefVar("lat", netcdf.Double, []int{y})
	f.PutAttr(yid, netcdf.Attr{Name: "units", Value: "degrees_north"})
	xid, _ := f.DefVar("lon", netcdf.Double, []int{x})
	f.PutAttr(xid, netcdf.Attr{Name: "units", Value: "degrees_east"})
	vid, err := f.DefVar("tas", netcdf.Float, []int{t, y, x})
	if err != nil {
		return err
	}
	if err := f.EndDef(); err != nil {
		return err
	}
	lat, lon := make([]float64, benchY), make([]float64, benchX)
	for j := range lat {
		lat[j] = -89.5 + float64(j)
	}
	for i := range lon {
		lon[i] = 0.5 + float64(i)
	}
	f.Write(yid, []int{0}, []int{benchY}, lat)
	f.Write(xid, []int{0}, []int{benchX}, lon)
	slab := make([]float64, benchY*benchX)
	for d := 0; d < benchT; d++ {
		for k := range slab {
			slab[k] = 250 + 40*math.Sin(float64(k+d)/1000)
		}
		if err := f.Write(tid, []int{d}, []int{1}, []float64{float64(d) + 0.5}); err != nil {
			return err
		}
		if err := f.Write(vid, []int{d, 0, 0}, []int{1, benchY, benchX}, slab); err != nil {
			return err
		}
	}
	return nil
}

// BenchmarkSubsetBox cuts a 60°x90° box across the longitude seam out of
// every time step and writes it, as CDO's sellonlatbox does in
// BenchmarkCDOSubsetBox on the same file.
func BenchmarkSubsetBox(b *testing.B) {
	benchOurs(b, func(a Array) (Array, error) {
		return Subset(a, []workflow.Dimension{num("lon", workflow.Values, -45, 45), num("lat", workflow.Values, 0, 60)}, "", nil)
	})
}

func BenchmarkCDOSubsetBox(b *testing.B) { benchCDO(b, "sellonlatbox,-45,45,0,60") }

// BenchmarkAggregate joins the same year twice shifted (two files) and
// writes the result, against CDO's mergetime.
func BenchmarkAggregateCopy(b *testing.B) {
	benchOurs(b, func(a Array) (Array, error) { return Aggregate([]Array{a}) })
}

func BenchmarkCDOCopy(b *testing.B) { benchCDO(b, "mergetime") }
