package netcdf

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cubeValue is exactly representable as float32.
func cubeValue(t, y, x int) float64 { return float64((t*7 + y*3 + x) % 4096) }

// writeCube writes a float32 variable tas(time, lat, lon), one chunk per time
// step, a time step per Write.
func writeCube(tb testing.TB, path string, nt, ny, nx int, deflate bool) {
	tb.Helper()
	if err := makeCube(path, nt, ny, nx, deflate); err != nil {
		tb.Fatal(err)
	}
}

func makeCube(path string, nt, ny, nx int, deflate bool) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dt, err1 := f.DefDim("time", 0)
	dy, err2 := f.DefDim("lat", ny)
	dx, err3 := f.DefDim("lon", nx)
	v, err4 := f.DefVar("tas", Float, []int{dt, dy, dx})
	for _, err := range []error{err1, err2, err3, err4, f.SetChunking(v, []int{1, ny, nx})} {
		if err != nil {
			return err
		}
	}
	if deflate {
		if err := f.SetDeflate(v, true, 1); err != nil {
			return err
		}
	}
	if err := f.EndDef(); err != nil {
		return err
	}
	step := make([]float64, ny*nx)
	for t := range nt {
		for y := range ny {
			for x := range nx {
				step[y*nx+x] = cubeValue(t, y, x)
			}
		}
		if err := f.Write(v, []int{t, 0, 0}, []int{1, ny, nx}, step); err != nil {
			return err
		}
	}
	return f.Close()
}

// writeClassicCube writes the same variable as writeCube to a NetCDF-3
// classic file, through ncgen.
func writeClassicCube(t *testing.T, path string, nt, ny, nx int) {
	t.Helper()
	ncgen, err := exec.LookPath("ncgen")
	if err != nil {
		t.Fatal("ncgen is not on PATH: run scripts/setup.sh test to install netcdf-bin")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "netcdf cube {\ndimensions:\n\ttime = UNLIMITED ;\n\tlat = %d ;\n\tlon = %d ;\n", ny, nx)
	b.WriteString("variables:\n\tfloat tas(time, lat, lon) ;\n\t\ttas:units = \"K\" ;\ndata:\n\ttas = ")
	for i := range nt * ny * nx {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprint(&b, cubeValue(i/(ny*nx), i/nx%ny, i%nx))
	}
	b.WriteString(" ;\n}\n")
	cdl := path + ".cdl"
	if err := os.WriteFile(cdl, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(ncgen, "-k", "classic", "-o", path, cdl).CombinedOutput(); err != nil {
		t.Fatalf("ncgen: %v\n%s", err, out)
	}
}

// checkCube reads path a time step at a time and compares every value.
func checkCube(path string, nt, ny, nx int) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Dims(); err != nil {
		return err
	}
	if _, err := f.Attrs(); err != nil {
		return err
	}
	vars, err := f.Vars()
	if err != nil {
		return err
	}
	if len(vars) != 1 || vars[0].Name != "tas" {
		return fmt.Errorf("%s: variables %+v", path, vars)
	}
	v, err := f.Var("tas")
	if err != nil {
		return err
	}
	if s := v.Shape(); len(s) != 3 || s[0] != nt || s[1] != ny || s[2] != nx {
		return fmt.Errorf("%s: shape %v", path, s)
	}
	step := make([]float64, ny*nx)
	for t := range nt {
		if err := f.Read(v.ID, []int{t, 0, 0}, []int{1, ny, nx}, nil, step); err != nil {
			return err
		}
		for i, got := range step {
			if want := cubeValue(t, i/nx, i%nx); got != want {
				return fmt.Errorf("%s: tas[%d][%d][%d] = %v, want %v", path, t, i/nx, i%nx, got, want)
			}
		}
	}
	return f.Close()
}

func copyFile(t *testing.T, dst, src string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestConcurrentFiles has eight goroutines open, inquire and read their own
// files while another writes. Half the readers use classic files, which
// libnetcdf reads without the global lock of the (thread-safe) HDF5 build.
// Without the package lock it crashes only in some runs (2 of 16 measured);
// TestConcurrentOpenClose is the reliable check.
func TestConcurrentFiles(t *testing.T) {
	const (
		readers = 8
		loops   = 50
		// Small, so that opening and inquiring, where libnetcdf's own state
		// is at stake, dominate.
		nt, ny, nx = 6, 3, 4
	)
	dir := t.TempDir()
	srcs := [2]string{filepath.Join(dir, "src3.nc"), filepath.Join(dir, "src4.nc")}
	writeClassicCube(t, srcs[0], nt, ny, nx)
	writeCube(t, srcs[1], nt, ny, nx, true)

	done := make(chan struct{})
	var writer sync.WaitGroup
	var written int
	writer.Go(func() {
		for {
			out := filepath.Join(dir, fmt.Sprintf("out%d.nc", written%2))
			if err := makeCube(out, nt, ny, nx, written%2 == 0); err != nil {
				t.Error(err)
				return
			}
			written++
			select {
			case <-done:
				return
			default:
			}
		}
	})

	var wg sync.WaitGroup
	for r := range readers {
		path := filepath.Join(dir, fmt.Sprintf("copy%d.nc", r))
		copyFile(t, path, srcs[r%2])
		wg.Go(func() {
			for range loops {
				if err := checkCube(path, nt, ny, nx); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	writer.Wait()
	if written == 0 {
		t.Fatal("the writer wrote nothing")
	}
	for i := range min(written, 2) {
		if err := checkCube(filepath.Join(dir, fmt.Sprintf("out%d.nc", i)), nt, ny, nx); err != nil {
			t.Error(err)
		}
	}
}

// TestConcurrentOpenClose stresses what TestConcurrentFiles exercises only
// briefly: libnetcdf's table of open files. Without the package lock it
// fails in nearly every run, with "Not a valid ID" or a segfault.
func TestConcurrentOpenClose(t *testing.T) {
	const loops = 2000
	src := writeClassic(t)
	dir := t.TempDir()
	done := make(chan struct{})
	var writer sync.WaitGroup
	writer.Go(func() {
		for i := 0; ; i++ {
			if err := makeCube(filepath.Join(dir, fmt.Sprintf("w%d.nc", i%2)), 2, 2, 2, i%2 == 0); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-done:
				return
			default:
			}
		}
	})
	var wg sync.WaitGroup
	for r := range 8 {
		path := filepath.Join(dir, fmt.Sprintf("copy%d.nc", r))
		copyFile(t, path, src)
		wg.Go(func() {
			for range loops {
				if err := readNames(path); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(done)
	writer.Wait()
}

func readNames(path string) error {
	f, err := Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Vars(); err != nil {
		return err
	}
	v, err := f.Var("name")
	if err != nil {
		return err
	}
	names, err := f.ReadText(v.ID)
	if err != nil {
		return err
	}
	if len(names) != 3 || names[2] != "gamma" {
		return fmt.Errorf("%s: names %q", path, names)
	}
	return f.Close()
}

// TestSharedFile uses one File from several goroutines and closes it while
// they read. libnetcdf gives the next file opened the same handle, so a
// reader that did not see the close would read that file instead.
func TestSharedFile(t *testing.T) {
	const nt, ny, nx = 10, 8, 9
	dir := t.TempDir()
	path := filepath.Join(dir, "shared.nc")
	writeCube(t, path, nt, ny, nx, false)
	// In the other file, variable 0 has one dimension: reading it as tas fails.
	other := filepath.Join(dir, "other.nc")
	g, err := Create(other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := g.DefDim("time", nt+1); err != nil {
		t.Fatal(err)
	}
	if _, err := g.DefVar("time", Double, []int{0}); err != nil {
		t.Fatal(err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Var("tas")
	if err != nil {
		t.Fatal(err)
	}

	var warm, wg sync.WaitGroup
	for range 4 {
		warm.Add(1)
		wg.Go(func() {
			var once sync.Once
			defer once.Do(warm.Done)
			step := make([]float64, ny*nx)
			for i := 0; ; i++ {
				if i == 20 {
					once.Do(warm.Done)
				}
				if i == 1e6 {
					t.Error("still reading long after Close")
					return
				}
				t0 := i % nt
				err := f.Read(v.ID, []int{t0, 0, 0}, []int{1, ny, nx}, nil, step)
				if err != nil {
					if !strings.Contains(err.Error(), "file is closed") {
						t.Errorf("read after close: %v", err)
					}
					return
				}
				if step[ny*nx-1] != cubeValue(t0, ny-1, nx-1) {
					t.Errorf("step %d: last value %v", t0, step[ny*nx-1])
					return
				}
			}
		})
	}
	warm.Wait()
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	g, err = Open(other)
	if err != nil {
		t.Fatal(err)
	}
	if g.ncid != f.ncid {
		t.Logf("libnetcdf did not reuse the handle (%d, then %d)", f.ncid, g.ncid)
	}
	wg.Wait()
	if d, err := g.Dim("time"); err != nil || d.Len != nt+1 {
		t.Errorf("other file: %+v, %v", d, err)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReadSlab reads a 200×90×180 float32 file a time step at a time;
// bytes per op are those stored in the file.
func BenchmarkReadSlab(b *testing.B) {
	const nt, ny, nx = 200, 90, 180
	for _, deflate := range []bool{false, true} {
		name := "plain"
		if deflate {
			name = "deflate"
		}
		b.Run(name, func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "cube.nc")
			writeCube(b, path, nt, ny, nx, deflate)
			f, err := Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			v, err := f.Var("tas")
			if err != nil {
				b.Fatal(err)
			}
			step := make([]float64, ny*nx)
			b.SetBytes(nt * ny * nx * 4)
			for b.Loop() {
				for t := range nt {
					if err := f.Read(v.ID, []int{t, 0, 0}, []int{1, ny, nx}, nil, step); err != nil {
						b.Fatal(err)
					}
				}
			}
			if step[0] != cubeValue(nt-1, 0, 0) {
				b.Fatalf("last step starts with %v", step[0])
			}
		})
	}
}
