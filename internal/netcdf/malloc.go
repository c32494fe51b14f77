package netcdf

/*
#include <malloc.h>

// glibc's malloc keeps one arena for this process. libnetcdf and HDF5 run
// one call at a time (mu), so more arenas bring no speed, only memory:
// each OS thread that happened to call in kept its own, with the freed
// conversion buffers and chunks in it (measured: a regrid's peak varied
// from 180 to 250 MB; with one arena it stays at 170). A constructor, so
// that it runs at load, before the Go runtime starts threads that would
// each take an arena.
__attribute__((constructor)) static void netcdf_one_arena(void) {
#ifdef M_ARENA_MAX
	mallopt(M_ARENA_MAX, 1);
#endif
}
*/
import "C"
