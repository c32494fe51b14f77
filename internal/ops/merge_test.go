package ops

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/computewps/computewps/internal/sample"
	"github.com/computewps/computewps/internal/workflow"
)

func TestMergeMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	tas := filepath.Join(dir, "tas_day_2000.nc")
	twice, clim := filepath.Join(tmp, "twice.nc"), filepath.Join(tmp, "clim.nc")
	cdo(t, "-chname,tas,tas2", "-mulc,2", tas, twice)
	cdo(t, "-chname,tas,clim", "-timmean", tas, clim)
	merged, err := Merge([]Dataset{{open(t, tas, "tas")}, {open(t, twice, "tas2")}}, false)
	if err != nil {
		t.Fatal(err)
	}
	ours := filepath.Join(tmp, "ours.nc")
	if _, err := Write(t.Context(), ours, merged, WriteOptions{SlabBytes: 1 << 16}); err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(tmp, "ref.nc")
	cdo(t, "merge", tas, twice, ref)
	for _, v := range []string{"tas", "tas2", "time", "lat", "lon"} {
		got, _ := readFile(t, ours, v)
		want, _ := readFile(t, ref, v)
		sameValues(t, v, got, want)
	}
	// A one-step time mean has another time coordinate: refused, naming it.
	_, err = Merge([]Dataset{{open(t, tas, "tas")}, {open(t, clim, "clim")}}, false)
	var me *MismatchError
	if !errors.As(err, &me) || me.Dim != "time" || me.A != 0 || me.B != 1 {
		t.Errorf("merge with a time mean: %v, want a MismatchError on time", err)
	}
}

func TestMergeConflicts(t *testing.T) {
	dir := sampleData(t)
	a := open(t, filepath.Join(dir, "tas_day_2000.nc"), "tas")
	b := WithConst(a, Add, 1)
	other := Rename(a, "other")
	_, err := Merge([]Dataset{{other}, {a}, {b}}, false)
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Var != "tas" || ce.A != 1 || ce.B != 2 {
		t.Fatalf("merge of two tas: %v, want a ConflictError on tas between inputs 2 and 3", err)
	}
	if err.Error() != `inputs 2 and 3 both hold a variable "tas"` {
		t.Errorf("message %q", err)
	}
	// override keeps the first.
	merged, err := Merge([]Dataset{{a}, {b}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(merged) != 1 || merged[0] != a {
		t.Errorf("override kept %v, want the first tas", merged)
	}
}

func TestSqueeze(t *testing.T) {
	tas := open(t, filepath.Join(sampleData(t), "tas_day_2000.nc"), "tas")
	one, err := Subset(tas, dims(num("time", workflow.Indices, 40, 40), num("lon", workflow.Indices, 10, 10)), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	sq := Squeeze(one)
	checkShape(t, sq, 36)
	if names := dimNames(sq.Meta()); names != "(lat)" {
		t.Fatalf("squeezed dimensions %s", names)
	}
	got, _ := readFile(t, writeResult(t, sq), "tas")
	for j := range 36 {
		if got[j] != sample.Tas(40, j, 10) {
			t.Fatalf("lat %d: %v, want %v", j, got[j], sample.Tas(40, j, 10))
		}
	}
	if Squeeze(tas) != tas {
		t.Error("squeezing an array without dimensions of length 1 should give it back")
	}
	// All dimensions of length 1: a scalar.
	point, err := Subset(tas, dims(num("time", workflow.Indices, 3, 3), num("lat", workflow.Indices, 2, 2), num("lon", workflow.Indices, 1, 1)), "", nil)
	if err != nil {
		t.Fatal(err)
	}
	got, shape := readFile(t, writeResult(t, Squeeze(point)), "tas")
	if len(shape) != 0 || got[0] != sample.Tas(3, 2, 1) {
		t.Errorf("scalar %v with shape %v, want %v", got, shape, sample.Tas(3, 2, 1))
	}
}

// TestSqueezeMatchesCDO: a time mean squeezed is CDO's --reduce_dim timmean.
func TestSqueezeMatchesCDO(t *testing.T) {
	dir := sampleData(t)
	tmp := t.TempDir()
	tas := filepath.Join(dir, "tas_day_2000.nc")
	mean, ref := filepath.Join(tmp, "mean.nc"), filepath.Join(tmp, "ref.nc")
	cdo(t, "timmean", tas, mean)
	cdo(t, "--reduce_dim", "timmean", tas, ref)
	got, gs := readFile(t, writeResult(t, Squeeze(open(t, mean, "tas"))), "tas")
	want, ws := readFile(t, ref, "tas")
	if len(gs) != 2 || len(ws) != 2 {
		t.Fatalf("shapes %v and CDO's %v", gs, ws)
	}
	sameValues(t, "tas", got, want)
}
