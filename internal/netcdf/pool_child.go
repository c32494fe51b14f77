package netcdf

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
)

// A process started by a ReaderPool serves reads from its init, before
// main (or a test binary's TestMain) runs: every program that links this
// package can be a reader without doing anything.
func init() {
	if os.Getenv(readerEnv) != "1" {
		return
	}
	os.Exit(serveReads())
}

// serveReads answers requests on fd 3 until it is closed, replying on fd
// 4, with the values in the memory file at fd 5.
func serveReads() int {
	os.Unsetenv(readerEnv)
	closeInherited()
	in, out := os.NewFile(3, "requests"), os.NewFile(4, "replies")
	shm := &sharedMemory{f: os.NewFile(5, "shared memory")}
	if _, err := out.Write(frame([]byte(helloText))); err != nil {
		return 1
	}
	files := &openFiles{}
	defer files.closeAll()
	for {
		b, err := readMsg(in)
		if errors.Is(err, io.EOF) {
			return 0 // the parent closed the pool or exited
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "netcdf reader %d: %v\n", os.Getpid(), err)
			return 1
		}
		q, err := decodeRequest(b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "netcdf reader %d: %v\n", os.Getpid(), err)
			return 1
		}
		if _, err := out.Write(serveRead(files, shm, q).encode()); err != nil {
			return 1
		}
	}
}

// closeInherited closes the descriptors the parent let this process
// inherit by mistake: libnetcdf and HDF5 open files without close-on-exec,
// so a reader started while its parent wrote a file held that file, and
// HDF5's lock on it, open; the parent could then not open its own output.
// Every descriptor Go opens is close-on-exec, so those without the flag
// beyond 0 to 5 are the inherited ones.
func closeInherited() {
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 5 {
			continue
		}
		flags, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_GETFD, 0)
		if errno == 0 && flags&syscall.FD_CLOEXEC == 0 {
			syscall.Close(fd)
		}
	}
}

func frame(b []byte) []byte {
	m := make([]byte, 4, 4+len(b))
	m[0], m[1], m[2], m[3] = byte(len(b)), byte(len(b)>>8), byte(len(b)>>16), byte(len(b)>>24)
	return append(m, b...)
}

func serveRead(files *openFiles, shm *sharedMemory, q *request) *reply {
	fail := func(err error) *reply {
		var e *Error
		if errors.As(err, &e) {
			return &reply{failed: true, code: e.Code, op: e.Op, varName: e.Var, msg: e.Msg}
		}
		return &reply{failed: true, op: "read", varName: q.name, msg: err.Error()}
	}
	if q.shmSize != len(shm.mem) {
		if err := shm.remap(q.shmSize); err != nil {
			return fail(err)
		}
	}
	need := slabBytes(q.count, q.wire)
	if need < 0 || need > len(shm.mem) {
		return fail(fmt.Errorf("the slab does not fit the %d bytes of shared memory", len(shm.mem)))
	}
	v, err := files.variable(q.path, q.name, q.cacheBytes)
	if err != nil {
		return fail(err)
	}
	n := need / q.wire
	if q.wire == 4 {
		err = v.f.ReadFloat32(v.id, q.start, q.count, q.stride, shm.float32s(n))
	} else {
		err = v.f.Read(v.id, q.start, q.count, q.stride, shm.float64s(n))
	}
	if err != nil {
		return fail(err)
	}
	return &reply{}
}

// openFiles keeps the few files a reader was last asked about open, and
// opens a file again when it changed on disk.
type openFiles struct {
	list []*openFile // most recently used last
}

const maxOpenFiles = 8

type openFile struct {
	path string
	f    *File
	st   os.FileInfo
	vars map[string]int
}

type openVar struct {
	f  *File
	id int
}

func (o *openFiles) variable(path, name string, cacheBytes int) (openVar, error) {
	st, err := os.Stat(path)
	if err != nil {
		return openVar{}, err
	}
	var of *openFile
	for i, c := range o.list {
		if c.path != path {
			continue
		}
		o.list = append(o.list[:i], o.list[i+1:]...)
		if os.SameFile(c.st, st) && c.st.Size() == st.Size() && c.st.ModTime().Equal(st.ModTime()) {
			of = c
		} else {
			c.f.Close()
		}
		break
	}
	if of == nil {
		f, err := Open(path)
		if err != nil {
			return openVar{}, err
		}
		of = &openFile{path: path, f: f, st: st, vars: map[string]int{}}
		if len(o.list) >= maxOpenFiles {
			o.list[0].f.Close()
			o.list = o.list[1:]
		}
	}
	o.list = append(o.list, of)
	id, ok := of.vars[name]
	if !ok {
		v, err := of.f.Var(name)
		if err != nil {
			return openVar{}, err
		}
		if cacheBytes >= 0 {
			if err := of.f.SetChunkCache(v.ID, cacheBytes); err != nil {
				return openVar{}, err
			}
		}
		id = v.ID
		of.vars[name] = id
	}
	return openVar{f: of.f, id: id}, nil
}

func (o *openFiles) closeAll() {
	for _, c := range o.list {
		c.f.Close()
	}
	o.list = nil
}
