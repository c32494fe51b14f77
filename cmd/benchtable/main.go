// Command benchtable prints the table of `make bench`: ComputeWPS against
// CDO and NCO on the same synthetic file (about 1 GB of float32,
// tas(time=3650, lat=180, lon=360)) and on a deflate-1 copy, in one run.
//
//	benchtable [-dir DIR] [-runs 3] [-cases REGEXP] [-read-processes N]
//
// The files are made once and kept in DIR. Every run of ours is a separate
// process, this binary re-executed with the hidden sub-command "ours", so
// that its time includes the start-up and the open as a command-line tool's
// does, and its peak memory can be measured. Each case is run once to warm
// up, then three times alternating ours and the reference; the table gives
// the medians.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/computewps/computewps/internal/netcdf"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "ours" {
		if err := ours(os.Args[2:]); err != nil {
			fmt.Fprintf(os.Stderr, "benchtable ours: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if err := table(); err != nil {
		fmt.Fprintf(os.Stderr, "benchtable: %v\n", err)
		os.Exit(1)
	}
}

// benchCase is one row: our operation on one input against one tool.
type benchCase struct {
	name    string
	input   string // "plain" or "deflate1"
	op      string // what ours computes: subset, timmean, fldmean, regrid
	refName string
	ref     func(in, out string) []string
	goal    float64 // at or below this ratio; 0: no goal, shown for information
}

var cases = []benchCase{
	{"subset", "plain", "subset", "ncks", func(in, out string) []string {
		return []string{"ncks", "-O", "-d", "time,0,364", "-d", "lat,-30.,30.", "-d", "lon,0.,180.", in, out}
	}, 1},
	{"subset", "plain", "subset", "cdo", func(in, out string) []string {
		return []string{"cdo", "-s", "-O", "-f", "nc4", "-sellonlatbox,0,180,-30,30", "-seltimestep,1/365", in, out}
	}, 0},
	{"time mean", "plain", "timmean", "cdo timmean", cdo("timmean"), 0.5},
	{"field mean (area-weighted)", "plain", "fldmean", "cdo fldmean", cdo("fldmean"), 0.5},
	{"bilinear regrid to 2°", "plain", "regrid", "cdo remapbil,r180x90", cdo("remapbil,r180x90"), 0.7},
	{"time mean", "deflate1", "timmean", "cdo timmean", cdo("timmean"), 0.7},
	{"field mean (area-weighted)", "deflate1", "fldmean", "cdo fldmean", cdo("fldmean"), 0.7},
}

func cdo(op string) func(in, out string) []string {
	return func(in, out string) []string { return []string{"cdo", "-s", "-O", "-f", "nc4", op, in, out} }
}

// memoryGoal is the peak memory every case of ours must stay under.
const memoryGoal = 256 << 20

// measurement is one process run.
type measurement struct {
	seconds float64
	rss     int64 // peak resident memory in bytes
}

func table() error {
	dir := flag.String("dir", filepath.Join(os.TempDir(), "computewps-bench"), "directory for the input files (kept between runs) and outputs")
	runs := flag.Int("runs", 3, "timed runs per case, after one warm-up; the table gives the median")
	only := flag.String("cases", "", "run only the cases whose name and input match this regular expression")
	procs := flag.Int("read-processes", 0, "WPS_READ_PROCESSES for our runs (0: as in the environment)")
	flag.Parse()
	var filter *regexp.Regexp
	if *only != "" {
		var err error
		if filter, err = regexp.Compile(*only); err != nil {
			return err
		}
	}
	for _, tool := range []string{"cdo", "ncks", "nccopy"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s is not installed: run scripts/setup-bench.sh", tool)
		}
	}
	if err := os.MkdirAll(filepath.Join(*dir, "out"), 0o755); err != nil {
		return err
	}
	inputs, err := ensureInputs(*dir)
	if err != nil {
		return err
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	env := os.Environ()
	if *procs > 0 {
		env = append(env, fmt.Sprintf("WPS_READ_PROCESSES=%d", *procs))
	}
	fmt.Printf("machine: %s, %d CPUs; load average before: %s\n", cpuModel(), runtime.NumCPU(), loadAverage())
	fmt.Printf("input: %s (%s), %s (%s)\n", inputs["plain"], fileSize(inputs["plain"]), inputs["deflate1"], fileSize(inputs["deflate1"]))
	type row struct {
		c         benchCase
		ours, ref measurement
		diff      string
	}
	var rows []row
	for _, c := range cases {
		label := c.name + " " + c.input
		if filter != nil && !filter.MatchString(label) {
			continue
		}
		in := inputs[c.input]
		slug := strings.NewReplacer(" ", "_", ",", "_").Replace(c.op + "_" + c.input + "_" + c.refName)
		ourOut := filepath.Join(*dir, "out", "ours_"+slug+".nc")
		refOut := filepath.Join(*dir, "out", "ref_"+slug+".nc")
		ourCmd := []string{self, "ours", "-op", c.op, "-in", in, "-out", ourOut}
		refCmd := c.ref(in, refOut)
		var ourRuns, refRuns []measurement
		for i := 0; i <= *runs; i++ {
			o, err := run(ourCmd, env)
			if err != nil {
				return fmt.Errorf("%s (ours): %w", label, err)
			}
			r, err := run(refCmd, nil)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", label, c.refName, err)
			}
			if i > 0 { // the first is the warm-up
				ourRuns, refRuns = append(ourRuns, o), append(refRuns, r)
			}
		}
		rw := row{c: c, ours: median(ourRuns), ref: median(refRuns), diff: compare(ourOut, refOut)}
		fmt.Fprintf(os.Stderr, "%-36s ours %.3f s  %s %.3f s  (%s)\n", label, rw.ours.seconds, c.refName, rw.ref.seconds, rw.diff)
		rows = append(rows, rw)
	}
	fmt.Printf("load average after: %s\n\n", loadAverage())
	fmt.Println("| case | input | ours (s) | reference | reference (s) | ratio | our peak RSS (MB) | goal | met? |")
	fmt.Println("|---|---|---:|---|---:|---:|---:|---|---|")
	allMet := true
	for _, r := range rows {
		ratio := r.ours.seconds / r.ref.seconds
		goal, met := "—", "—"
		memOK := r.ours.rss < memoryGoal
		if r.c.goal > 0 {
			goal = fmt.Sprintf("≤ %.2g×, < 256 MB", r.c.goal)
			met = "yes"
			if ratio > r.c.goal || !memOK {
				met, allMet = "no", false
			}
		} else if !memOK {
			goal, met, allMet = "< 256 MB", "no", false
		}
		input := "uncompressed"
		if r.c.input == "deflate1" {
			input = "deflate-1"
		}
		fmt.Printf("| %s | %s | %.3f | `%s` | %.3f | %.2f | %.0f | %s | %s |\n",
			r.c.name, input, r.ours.seconds, r.c.refName, r.ref.seconds, ratio, float64(r.ours.rss)/(1<<20), goal, met)
	}
	if allMet {
		fmt.Println("\nevery goal met")
	} else {
		fmt.Println("\nsome goals not met")
	}
	return nil
}

// run runs a command to completion and measures it. Ours reports the peak
// memory of its reader processes, which wait4 does not add to its own.
func run(argv, env []string) (measurement, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	err := cmd.Run()
	m := measurement{seconds: time.Since(start).Seconds()}
	if err != nil {
		return m, fmt.Errorf("%v: %s", err, strings.TrimSpace(stderr.String()))
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.rss = ru.Maxrss << 10
	}
	// Ours reports its own peak, and its reader processes': a Go program's
	// child inherits in ru_maxrss the parent's peak before exec, and wait4
	// gives the largest of a process and its children, not their sum.
	var rep report
	if line := bytes.TrimSpace(stdout.Bytes()); len(line) > 0 && line[0] == '{' {
		if err := json.Unmarshal(line, &rep); err == nil && rep.RSS > 0 {
			m.rss = rep.RSS + rep.ReaderRSS
		}
	}
	return m, nil
}

// report is what ours prints on its standard output.
type report struct {
	RSS       int64 `json:"rss"`        // its own peak resident memory, bytes
	ReaderRSS int64 `json:"reader_rss"` // the sum of its reader processes' peaks
}

func median(ms []measurement) measurement {
	s := slices.Clone(ms)
	slices.SortFunc(s, func(a, b measurement) int { return cmpFloat(a.seconds, b.seconds) })
	m := s[len(s)/2]
	for _, x := range ms {
		m.rss = max(m.rss, x.rss) // the worst run's memory
	}
	return m
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compare reads tas from both outputs and gives the largest relative
// difference, so that the table compares equal work.
func compare(a, b string) string {
	x, err := readAll(a)
	if err != nil {
		return "ours: " + err.Error()
	}
	y, err := readAll(b)
	if err != nil {
		return "reference: " + err.Error()
	}
	if len(x) != len(y) {
		return fmt.Sprintf("SIZES DIFFER: %d values against %d", len(x), len(y))
	}
	worst := 0.0
	for i := range x {
		d := math.Abs(x[i]-y[i]) / math.Max(math.Abs(y[i]), 1e-30)
		if x[i] != y[i] {
			worst = math.Max(worst, d)
		}
	}
	s := fmt.Sprintf("%d values, largest relative difference %.1e", len(x), worst)
	if worst > 1e-5 {
		s += " ABOVE 1e-5"
	}
	return s
}

func readAll(path string) ([]float64, error) {
	f, err := netcdf.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	v, err := f.Var("tas")
	if err != nil {
		return nil, err
	}
	shape := v.Shape()
	n := 1
	for _, l := range shape {
		n *= l
	}
	out := make([]float64, n)
	return out, f.Read(v.ID, make([]int, len(shape)), shape, nil, out)
}

func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

func loadAverage() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func fileSize(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%d bytes", st.Size())
}
