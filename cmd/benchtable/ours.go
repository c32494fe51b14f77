package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"

	"github.com/computewps/computewps/internal/cf"
	"github.com/computewps/computewps/internal/config"
	"github.com/computewps/computewps/internal/netcdf"
	"github.com/computewps/computewps/internal/ops"
	"github.com/computewps/computewps/internal/regrid"
	"github.com/computewps/computewps/internal/workflow"
)

// ours computes one case as a job does: the settings from the environment,
// the operators on the opened input, and the writer. Outputs are written
// uncompressed, as CDO and NCO write them by default (jobs deflate theirs).
func ours(args []string) error {
	fs := flag.NewFlagSet("ours", flag.ContinueOnError)
	op := fs.String("op", "", "subset, timmean, fldmean or regrid")
	in := fs.String("in", "", "input file")
	out := fs.String("out", "", "output file")
	profile := fs.String("cpuprofile", "", "write a CPU profile of -repeat runs here")
	repeat := fs.Int("repeat", 1, "compute this many times (for -cpuprofile)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// The server's own configuration, with authentication off since
	// nothing here serves requests.
	cfg, err := config.Load(func(k string) string {
		if k == "AUTH_ENABLED" {
			return "false"
		}
		return os.Getenv(k)
	})
	if err != nil {
		return err
	}
	// As compute-wps serve and worker do.
	var pool *netcdf.ReaderPool
	if cfg.ReadProcs > 1 {
		if pool, err = netcdf.NewReaderPool(cfg.ReadProcs); err != nil {
			return err
		}
		defer pool.Close()
		ops.UseReaderPool(pool)
	}
	for range *repeat {
		if err := compute(*op, *in, *out, cfg); err != nil {
			return err
		}
	}
	// VmHWM, not getrusage: a process started by a Go program inherits in
	// ru_maxrss the peak of its parent's memory before exec.
	rep := report{RSS: peakRSS()}
	if pool != nil {
		rep.ReaderRSS = pool.PeakRSS()
	}
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// peakRSS is this process's VmHWM in bytes.
func peakRSS() int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			if f := strings.Fields(v); len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

func compute(op, in, out string, cfg *config.Config) error {
	ctx := context.Background()
	ds, err := cf.Open(in)
	if err != nil {
		return err
	}
	defer ds.Close()
	a, err := ops.FromDataset(ds, "tas")
	if err != nil {
		return err
	}
	ropt := ops.ReduceOptions{SlabBytes: cfg.SlabBytes}
	var r ops.Array
	switch op {
	case "subset":
		dim := func(name string, crs workflow.CRS, lo, hi float64) workflow.Dimension {
			return workflow.Dimension{Name: name, CRS: crs, Start: workflow.Value{Num: lo}, End: workflow.Value{Num: hi}, Step: 1}
		}
		r, err = ops.Subset(a, []workflow.Dimension{
			dim("time", workflow.Indices, 0, 365), dim("lat", workflow.Values, -30, 30), dim("lon", workflow.Values, 0, 180),
		}, "", nil)
	case "timmean":
		r, err = ops.Reduce(a, ops.Mean, []string{"time"}, ropt)
	case "fldmean":
		r, err = ops.Average(a, []string{"lat", "lon"}, true, ropt)
	case "regrid":
		// CDO's r180x90: centres from -89° and from 0°, 2° apart.
		var dst, src *regrid.Grid
		var plan *regrid.Plan
		if dst, err = regrid.Uniform(-89, 90, 2, 0, 180, 2); err == nil {
			if src, _, _, err = ops.GridOf(a.Meta()); err == nil {
				if plan, err = regrid.NewPlan(src, dst, regrid.Bilinear); err == nil {
					r, err = ops.Regrid(a, plan)
				}
			}
		}
	default:
		return fmt.Errorf("unknown operation %q", op)
	}
	if err != nil {
		return err
	}
	_, err = ops.Write(ctx, out, ops.Dataset{r}, ops.WriteOptions{SlabBytes: cfg.SlabBytes, History: "benchtable"})
	return err
}
