package netcdf

/*
#include <netcdf.h>
*/
import "C"

// Chunking returns the chunk lengths of varID, one per dimension, or nil
// when it is stored contiguously (as every variable of a classic file is).
func (f *File) Chunking(varID int) ([]int, error) {
	const op = "inquire chunking"
	_, lens, err := f.shape(op, varID)
	if err != nil {
		return nil, err
	}
	var storage C.int
	cs := make([]C.size_t, len(lens)+1)
	err = f.call(op, onVar(varID), func(nc C.int) C.int {
		rc := C.nc_inq_var_chunking(nc, C.int(varID), &storage, &cs[0])
		if rc == C.NC_ENOTNC4 {
			storage = C.NC_CONTIGUOUS
			return C.NC_NOERR
		}
		return rc
	})
	if err != nil || storage != C.NC_CHUNKED || len(lens) == 0 {
		return nil, err
	}
	out := make([]int, len(lens))
	for i := range out {
		out[i] = int(cs[i])
	}
	return out, nil
}
