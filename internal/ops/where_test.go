package ops

import (
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/computewps/computewps/internal/sample"
)

func TestParseCond(t *testing.T) {
	for _, c := range []struct {
		in    string
		left  string
		op    string
		right string
		num   float64
	}{
		{"lat>-45", "lat", ">", "", -45},
		{"lon>=360", "lon", ">=", "", 360},
		{"lon==180", "lon", "==", "", 180},
		{"lon!=180", "lon", "!=", "", 180},
		{"lon <= 1E+2", "lon", "<=", "", 100},
		{" lat < .5 ", "lat", "<", "", 0.5},
		{"tas>=273.15", "tas", ">=", "", 273.15},
		// The reference kept one decimal and compared with 0.0.
		{"pr>0.000023", "pr", ">", "", 0.000023},
		{"pr > 2.3e-5", "pr", ">", "", 2.3e-5},
		{"pr isnull", "pr", "isnull", "", 0},
		{"pr notnull", "pr", "notnull", "", 0},
		{"prisnull", "pr", "isnull", "", 0},
		{"pr>=prw", "pr", ">=", "prw", 0},
		{"pr_1 < pr_2", "pr_1", "<", "pr_2", 0},
	} {
		got, err := ParseCond(c.in)
		if err != nil {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got.Left != c.left || got.Op != c.op || got.Right != c.right || got.Num != c.num || got.IsNum != (c.right == "" && c.op[0] != 'i' && c.op[0] != 'n') {
			t.Errorf("%q parsed as %+v", c.in, got)
		}
	}
	for _, bad := range []string{"lon>>>>180", "lon>>180", "", "  ", "lon=180", ">5", "lon>", "lon > 5 6", "lon>0x10",
		"lon>1_000", "lon>1e", "lon=>5", "pr is null", "isnull", "lon>-", "lon>5.5.5", "lon~5", "lon>(5)"} {
		_, err := ParseCond(bad)
		want := "condition '" + bad + "' is not valid: expected <name> <op> <number>, <name> isnull or <name> notnull"
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want one starting %q", bad, err, want)
		}
	}
}

func FuzzParseCond(f *testing.F) {
	for _, s := range []string{"lat>-45", "pr isnull", "prisnull", "pr>=prw", "tas>=2.3e-5", "lon>>180", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCond(s)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "condition '") {
				t.Fatalf("%q: error %q does not name the condition", s, err)
			}
			return
		}
		if _, ok := cmpOps[c.Op]; !ok || c.Left == "" {
			t.Fatalf("%q parsed as %+v", s, c)
		}
		// What was parsed reads back the same once written out plainly.
		text := c.Left + " " + c.Op
		switch {
		case c.IsNum:
			if math.IsNaN(c.Num) || math.IsInf(c.Num, 0) {
				t.Fatalf("%q gave the number %v", s, c.Num)
			}
			text += " " + strconv.FormatFloat(c.Num, 'g', -1, 64)
		case c.Right != "":
			text += " " + c.Right
		}
		again, err := ParseCond(text)
		if err != nil || again.Left != c.Left || again.Op != c.Op || again.Right != c.Right || again.Num != c.Num {
			t.Fatalf("%q parsed as %+v, written as %q, parsed again as %+v (%v)", s, c, text, again, err)
		}
	})
}

func mustCond(t *testing.T, s string) Cond {
	t.Helper()
	c, err := ParseCond(s)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestWhereMatchesCDO compares conditions on values, on coordinates and
// between two variables with CDO's expr on the same files.
func TestWhereMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	tas, pr := filepath.Join(dir, "tas_day_2000.nc"), filepath.Join(dir, "pr_mon_360day.nc")
	prw, both := filepath.Join(tmp, "prw.nc"), filepath.Join(tmp, "both.nc")
	cdo(t, "-expr,prw=2.5e-5+5e-6*sin(clon(pr)*0.0174533)+0*pr", pr, prw)
	cdo(t, "merge", pr, prw, both)
	nan := math.NaN()
	for _, c := range []struct {
		name, in string
		vars     []string
		cond     string
		other    float64
		expr     []string // one CDO expression per variable
	}{
		{"value, many decimals", pr, []string{"pr"}, "pr>0.000025", nan, []string{"pr=(pr>0.000025)?pr:missval(pr)"}},
		{"value with an exponent and other", pr, []string{"pr"}, "pr <= 2.5e-5", -1, []string{"pr=(pr<=2.5e-5)?pr:-1"}},
		{"latitude", tas, []string{"tas"}, "lat>-45", 0, []string{"tas=(clat(tas)>-45)?tas:0"}},
		{"longitude", tas, []string{"tas"}, "lon!=180", nan, []string{"tas=(clon(tas)!=180)?tas:missval(tas)"}},
		{"isnull", pr, []string{"pr"}, "prisnull", 1, []string{"pr=isMissval(pr)?pr:1"}},
		{"notnull", pr, []string{"pr"}, "pr notnull", 1, []string{"pr=isMissval(pr)?1:pr"}},
		{"two variables", both, []string{"pr", "prw"}, "pr>=prw", nan,
			[]string{"pr=(pr>=prw)?pr:missval(pr)", "prw=(pr>=prw)?prw:missval(prw)"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			var ds Dataset
			for _, v := range c.vars {
				ds = append(ds, open(t, c.in, v))
			}
			res, err := Where(ds, mustCond(t, c.cond), c.other)
			if err != nil {
				t.Fatal(err)
			}
			ours := filepath.Join(t.TempDir(), "ours.nc")
			if _, err := Write(t.Context(), ours, res, WriteOptions{SlabBytes: 1 << 16}); err != nil {
				t.Fatal(err)
			}
			for i, v := range c.vars {
				ref := filepath.Join(t.TempDir(), "ref.nc")
				cdo(t, "expr,"+c.expr[i], c.in, ref)
				got, _ := readFile(t, ours, v)
				want, _ := readFile(t, ref, v)
				sameWithin(t, v, got, want, 1e-6)
			}
		})
	}
}

// TestWhereMissing: a comparison that meets a missing value gives a
// missing value, whatever other is, and the file holds the _FillValue.
func TestWhereMissing(t *testing.T) {
	pr := open(t, filepath.Join(sampleData(t), "pr_mon_360day.nc"), "pr")
	res, err := Where(Dataset{pr}, mustCond(t, "pr>1"), 0)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := readFile(t, writeResult(t, res[0]), "pr")
	if got[0] != float64(float32(1e20)) || got[3] != 0 {
		t.Errorf("corner %v, next %v; want the _FillValue and 0", got[0], got[3])
	}
}

// TestWhereComparesInTheDataPrecision finds a float32 value written with
// the decimals a user would type.
func TestWhereComparesInTheDataPrecision(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	v := sample.Tas(0, 10, 20)
	text := strconv.FormatFloat(v, 'g', -1, 32) // e.g. 286.1233, not 286.12329101…
	if strconv.FormatFloat(v, 'g', -1, 64) == text {
		t.Fatalf("%v is exact in decimal; pick another point", v)
	}
	res, err := Where(Dataset{tas}, mustCond(t, "tas=="+text), -1)
	if err != nil {
		t.Fatal(err)
	}
	got := readAll(t, res[0])
	if got[10*72+20] != v {
		t.Errorf("tas==%s did not find %v", text, v)
	}
}

// TestWhereBroadcasts: a variable with fewer dimensions than the
// condition's operand is repeated along the others.
func TestWhereBroadcasts(t *testing.T) {
	x := newMem("x", []float64{1, 2, 3, 4, 5, 6}, "time", 2, "lat", 3)
	w := newMem("w", []float64{10, 20, 30}, "lat", 3)
	res, err := Where(Dataset{w, x}, mustCond(t, "x>2"), 0)
	if err != nil {
		t.Fatal(err)
	}
	if names := dimNames(res[0].Meta()); names != "(lat, time)" {
		t.Fatalf("w masked by x has dimensions %s, want (lat, time)", names)
	}
	sameWithin(t, "w", readAll(t, res[0]), []float64{0, 10, 0, 20, 30, 30}, 0)
	sameWithin(t, "x", readAll(t, res[1]), []float64{0, 0, 3, 4, 5, 6}, 0)
	// A coordinate condition: lat is 0, 1, 2.
	res, err = Where(Dataset{x}, mustCond(t, "lat<1"), -1)
	if err != nil {
		t.Fatal(err)
	}
	sameWithin(t, "lat<1", readAll(t, res[0]), []float64{1, -1, -1, 4, -1, -1}, 0)
}

func TestWhereUnknownName(t *testing.T) {
	pr := open(t, filepath.Join(sampleData(t), "pr_mon_360day.nc"), "pr")
	_, err := Where(Dataset{pr}, mustCond(t, "tas>-45"), math.NaN())
	want := "condition 'tas>-45': 'tas' is neither a variable nor a coordinate of the input, which has pr, time, lat, lon"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	_, err = Where(Dataset{pr}, mustCond(t, "pr>=prw"), math.NaN())
	if err == nil || !strings.Contains(err.Error(), "'prw' is neither") {
		t.Errorf("error %v, want prw named", err)
	}
}
