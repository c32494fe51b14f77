package ops

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/computewps/computewps/internal/cf"
)

// benchOurs opens the benchmark file, computes on tas with build and
// writes the result, as a request would: the timing includes the open and
// the write, as CDO's does.
func benchOurs(b *testing.B, build func(Array) (Array, error)) {
	benchOursFile(b, benchFile(b), build)
}

func benchOursFile(b *testing.B, in string, build func(Array) (Array, error)) {
	out := filepath.Join(b.TempDir(), "out.nc")
	b.SetBytes(benchT * benchY * benchX * 4)
	for b.Loop() {
		ds, err := cf.Open(in)
		if err != nil {
			b.Fatal(err)
		}
		a, err := FromDataset(ds, "tas")
		if err != nil {
			b.Fatal(err)
		}
		r, err := build(a)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Write(context.Background(), out, Dataset{r}, WriteOptions{}); err != nil {
			b.Fatal(err)
		}
		ds.Close()
	}
}

func benchCDO(b *testing.B, op string) { benchCDOFile(b, benchFile(b), op) }

func benchCDOFile(b *testing.B, in, op string) {
	out := filepath.Join(b.TempDir(), "out.nc")
	if _, err := exec.LookPath("cdo"); err != nil {
		b.Fatal("cdo is not installed: run scripts/setup.sh test")
	}
	b.SetBytes(benchT * benchY * benchX * 4)
	for b.Loop() {
		if out, err := exec.Command("cdo", "-s", "-O", "-f", "nc4", op, in, out).CombinedOutput(); err != nil {
			b.Fatalf("%v: %s", err, out)
		}
	}
}

// BenchmarkTimeMean is CDAT.mean over time, against BenchmarkCDOTimmean.
func BenchmarkTimeMean(b *testing.B) {
	benchOurs(b, func(a Array) (Array, error) { return Reduce(a, Mean, []string{"time"}, ReduceOptions{}) })
}

func BenchmarkCDOTimmean(b *testing.B) { benchCDO(b, "timmean") }

// BenchmarkTimeStd is CDAT.std over time, against BenchmarkCDOTimstd.
func BenchmarkTimeStd(b *testing.B) {
	benchOurs(b, func(a Array) (Array, error) { return Reduce(a, StdDev, []string{"time"}, ReduceOptions{}) })
}

func BenchmarkCDOTimstd(b *testing.B) { benchCDO(b, "timstd") }

// BenchmarkFieldMean is the area-weighted CDAT.average over latitude and
// longitude, against BenchmarkCDOFldmean.
func BenchmarkFieldMean(b *testing.B) {
	benchOurs(b, func(a Array) (Array, error) { return Average(a, []string{"lat", "lon"}, true, ReduceOptions{}) })
}

func BenchmarkCDOFldmean(b *testing.B) { benchCDO(b, "fldmean") }

var (
	deflatedOnce sync.Once
	deflatedPath string
	deflatedErr  error
)

// deflatedFile is the benchmark file compressed at deflate level 1, one
// time step a chunk, as CMIP files often are.
func deflatedFile(b *testing.B) string {
	in := benchFile(b)
	deflatedOnce.Do(func() {
		deflatedPath = filepath.Join(filepath.Dir(in), "bench_tas_d1.nc")
		var out []byte
		if out, deflatedErr = exec.Command("nccopy", "-d", "1", "-c", "time/1,lat/180,lon/360", in, deflatedPath).CombinedOutput(); deflatedErr != nil {
			deflatedErr = fmt.Errorf("nccopy: %v: %s", deflatedErr, out)
		}
	})
	if deflatedErr != nil {
		b.Fatal(deflatedErr)
	}
	return deflatedPath
}

// BenchmarkTimeMeanDeflated is CDAT.mean over time of the deflated file,
// against BenchmarkCDOTimmeanDeflated: there the floor is the inflate.
func BenchmarkTimeMeanDeflated(b *testing.B) {
	benchOursFile(b, deflatedFile(b), func(a Array) (Array, error) { return Reduce(a, Mean, []string{"time"}, ReduceOptions{}) })
}

func BenchmarkCDOTimmeanDeflated(b *testing.B) { benchCDOFile(b, deflatedFile(b), "timmean") }
