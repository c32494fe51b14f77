package netcdf

/*
#define _GNU_SOURCE
#include <stdlib.h>
#include <sys/mman.h>
*/
import "C"

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"syscall"
	"unsafe"
)

// The messages between a ReaderPool and a reader process. Each is a
// little-endian uint32 length and that many bytes. The values read travel
// through memory the two processes share, not through the pipes.
const (
	opRead    = 1
	maxRank   = 1024
	maxMsg    = 1 << 20
	helloText = "computewps netcdf reader 1"
)

// request asks a reader process for a hyperslab of a variable.
type request struct {
	path, name string
	wire       int   // bytes per value sent back: 4 (float32) or 8 (float64)
	cacheBytes int   // chunk cache to set when the variable is first read; <0 leaves it
	shmSize    int   // the size of the shared memory now; the reader maps it again when it changed
	start      []int // count and stride have the same length
	count      []int
	stride     []int
}

func (r *request) encode() []byte {
	b := make([]byte, 4, 64+len(r.path)+len(r.name)+24*len(r.start))
	b = append(b, opRead, byte(r.wire))
	b = binary.LittleEndian.AppendUint64(b, uint64(int64(r.cacheBytes)))
	b = binary.LittleEndian.AppendUint64(b, uint64(r.shmSize))
	b = appendString(b, r.path)
	b = appendString(b, r.name)
	b = binary.LittleEndian.AppendUint32(b, uint32(len(r.start)))
	for i := range r.start {
		b = binary.LittleEndian.AppendUint64(b, uint64(r.start[i]))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.count[i]))
		b = binary.LittleEndian.AppendUint64(b, uint64(r.stride[i]))
	}
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func decodeRequest(b []byte) (*request, error) {
	d := decoder{b: b}
	op, wire := d.byte(), d.byte()
	r := &request{wire: int(wire), cacheBytes: int(int64(d.uint64())), shmSize: int(d.uint64())}
	r.path, r.name = d.string(), d.string()
	n := int(d.uint32())
	if d.err == nil && (op != opRead || (r.wire != 4 && r.wire != 8) || n > maxRank) {
		d.err = fmt.Errorf("bad request (op %d, %d bytes a value, rank %d)", op, wire, n)
	}
	for i := 0; i < n && d.err == nil; i++ {
		r.start = append(r.start, int(d.uint64()))
		r.count = append(r.count, int(d.uint64()))
		r.stride = append(r.stride, int(d.uint64()))
	}
	return r, d.err
}

// reply is a reader's answer: an error, or nothing when the values are in
// the shared memory.
type reply struct {
	code        int // the libnetcdf status of a failed call, 0 otherwise
	op, varName string
	msg         string
	failed      bool
}

func (r *reply) encode() []byte {
	b := make([]byte, 4, 64+len(r.msg))
	ok := byte(0)
	if r.failed {
		ok = 1
	}
	b = append(b, ok)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(r.code)))
	b = appendString(b, r.op)
	b = appendString(b, r.varName)
	b = appendString(b, r.msg)
	binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
	return b
}

func decodeReply(b []byte) (*reply, error) {
	d := decoder{b: b}
	r := &reply{failed: d.byte() != 0, code: int(int32(d.uint32()))}
	r.op, r.varName, r.msg = d.string(), d.string(), d.string()
	return r, d.err
}

func appendString(b []byte, s string) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// decoder reads fields until the first error, which it keeps.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = errors.New("truncated message")
		return nil
	}
	p := d.b[:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) byte() byte {
	if p := d.take(1); p != nil {
		return p[0]
	}
	return 0
}

func (d *decoder) uint32() uint32 {
	if p := d.take(4); p != nil {
		return binary.LittleEndian.Uint32(p)
	}
	return 0
}

func (d *decoder) uint64() uint64 {
	if p := d.take(8); p != nil {
		return binary.LittleEndian.Uint64(p)
	}
	return 0
}

func (d *decoder) string() string {
	return string(d.take(int(d.uint32())))
}

// readMsg reads one length-prefixed message.
func readMsg(r io.Reader) ([]byte, error) {
	var n [4]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return nil, err
	}
	size := binary.LittleEndian.Uint32(n[:])
	if size > maxMsg {
		return nil, fmt.Errorf("message of %d bytes", size)
	}
	b := make([]byte, size)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, io.ErrUnexpectedEOF
	}
	return b, nil
}

// sharedMemory is a memfd mapped read-write and shared, in which a reader
// process puts the values its parent asked for.
type sharedMemory struct {
	f   *os.File
	mem []byte
}

// newSharedMemory creates an anonymous memory file; its pages are only
// allocated where written.
func newSharedMemory(size int) (*sharedMemory, error) {
	name := C.CString("computewps-reader")
	defer C.free(unsafe.Pointer(name))
	fd, err := C.memfd_create(name, C.MFD_CLOEXEC)
	if fd < 0 {
		return nil, fmt.Errorf("memfd_create: %w", err)
	}
	s := &sharedMemory{f: os.NewFile(uintptr(fd), "computewps-reader")}
	if err := s.resize(size); err != nil {
		s.f.Close()
		return nil, err
	}
	return s, nil
}

// resize makes the memory size bytes and maps it again.
func (s *sharedMemory) resize(size int) error {
	if err := s.f.Truncate(int64(size)); err != nil {
		return err
	}
	return s.remap(size)
}

// remap maps the file with the given size, as the reader process does when
// its parent has resized it.
func (s *sharedMemory) remap(size int) error {
	s.unmap()
	if size == 0 {
		return nil
	}
	m, err := mmapShared(s.f, size)
	if err != nil {
		return err
	}
	s.mem = m
	return nil
}

func (s *sharedMemory) unmap() {
	if s.mem != nil {
		_ = syscall.Munmap(s.mem)
		s.mem = nil
	}
}

func mmapShared(f *os.File, size int) ([]byte, error) {
	m, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	return m, nil
}

func (s *sharedMemory) close() {
	s.unmap()
	s.f.Close()
}

// float32s and float64s view the first n values of the memory.
func (s *sharedMemory) float32s(n int) []float32 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float32)(unsafe.Pointer(&s.mem[0])), n)
}

func (s *sharedMemory) float64s(n int) []float64 {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*float64)(unsafe.Pointer(&s.mem[0])), n)
}

// slabBytes is the memory a slab of count values of wire bytes needs, or
// -1 when it would overflow.
func slabBytes(count []int, wire int) int {
	n := wire
	for _, c := range count {
		if c < 0 || c != 0 && n > math.MaxInt/c {
			return -1
		}
		n *= c
	}
	return n
}
