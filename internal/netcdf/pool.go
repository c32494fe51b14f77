package netcdf

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ReaderPool reads hyperslabs of local files in reader processes, so that
// deflated data is inflated on several cores at once: libnetcdf, and the
// HDF5 under it, run one call at a time per process (see the package
// comment). A reader process is this same executable started with
// readerEnv set, which makes this package's init serve reads instead of
// running main (pool_child.go); it opens the files it is asked about
// itself and writes the values into memory it shares with its parent, so
// only a short request and reply cross the pipes.
//
// Reader processes start on first use (or with Start) and serve one read
// at a time each. A read whose context ends kills its reader, which is
// replaced on the next use; a reader that dies fails the read it was
// serving. Close stops them all.
type ReaderPool struct {
	size  int
	exe   string
	slots chan *reader // idle readers; nil for a slot whose reader is not running

	mu       sync.Mutex
	closed   bool
	startErr error // why readers cannot start; sticky
	live     map[*reader]bool
}

// ErrReadersUnavailable wraps the failure to start a reader process: the
// caller may read in its own process instead.
var ErrReadersUnavailable = errors.New("netcdf: reader processes are unavailable")

// errPoolClosed is returned by reads after Close.
var errPoolClosed = fmt.Errorf("%w: the pool is closed", ErrReadersUnavailable)

const (
	readerEnv      = "COMPUTEWPS_NETCDF_READER"
	helloTimeout   = 30 * time.Second
	stopTimeout    = 5 * time.Second
	initialShmSize = 4 << 20
)

// NewReaderPool makes a pool of up to size reader processes, running this
// executable. None starts until needed.
func NewReaderPool(size int) (*ReaderPool, error) {
	if size < 1 {
		return nil, fmt.Errorf("netcdf: a reader pool needs at least one process, got %d", size)
	}
	if os.Getenv(readerEnv) != "" {
		return nil, errors.New("netcdf: a reader process cannot have readers of its own")
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("netcdf: reader processes run this executable, which cannot be found: %w", err)
	}
	p := &ReaderPool{size: size, exe: exe, slots: make(chan *reader, size), live: map[*reader]bool{}}
	for range size {
		p.slots <- nil
	}
	return p, nil
}

// Size is the number of reader processes the pool runs at most, which is
// how many reads it serves at once.
func (p *ReaderPool) Size() int { return p.size }

// Start starts every reader process now, so that a deployment that cannot
// run them finds out at once rather than at the first read.
func (p *ReaderPool) Start() error {
	var started []*reader
	var err error
	for range p.size {
		var r *reader
		if r, err = p.acquire(context.Background()); err != nil {
			break
		}
		started = append(started, r)
	}
	for _, r := range started {
		p.release(r)
	}
	return err
}

// Close stops every reader process, waiting for the reads in flight. Reads
// after Close fail with an error that wraps ErrReadersUnavailable.
func (p *ReaderPool) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	var errs []error
	for range p.size {
		if r := <-p.slots; r != nil {
			if err := r.stop(); err != nil {
				errs = append(errs, err)
			}
			p.forget(r)
		}
	}
	for range p.size {
		p.slots <- nil
	}
	return errors.Join(errs...)
}

// PeakRSS is the sum of the peak resident memory (VmHWM) of the reader
// processes running now, in bytes; 0 where /proc does not tell.
func (p *ReaderPool) PeakRSS() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var sum int64
	for r := range p.live {
		sum += vmHWM(r.cmd.Process.Pid)
	}
	return sum
}

func vmHWM(pid int) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) > 0 {
				kb, _ := strconv.ParseInt(f[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// acquire takes an idle reader, starting one in an empty slot.
func (p *ReaderPool) acquire(ctx context.Context) (*reader, error) {
	var r *reader
	select {
	case r = <-p.slots:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if r != nil {
		select {
		case <-r.done:
			// It died idle (killed from outside): nothing was lost, so
			// start another.
			r.closeFiles()
			p.forget(r)
		default:
			return r, nil
		}
	}
	r, err := p.start()
	if err != nil {
		p.slots <- nil
		return nil, err
	}
	return r, nil
}

// release returns a reader to the pool, or frees its slot when it died.
func (p *ReaderPool) release(r *reader) {
	if r.dead {
		r.kill()
		<-r.done
		r.closeFiles()
		p.forget(r)
		p.slots <- nil
		return
	}
	p.slots <- r
}

func (p *ReaderPool) forget(r *reader) {
	p.mu.Lock()
	delete(p.live, r)
	p.mu.Unlock()
}

// reader is one reader process and the parent's ends of its pipes.
type reader struct {
	cmd       *exec.Cmd
	req, resp *os.File
	shm       *sharedMemory
	done      chan struct{} // closed once the process has been waited for
	waitErr   error         // its exit status, once done
	dead      bool          // it exited or was killed, or the pipes broke
}

func (p *ReaderPool) start() (*reader, error) {
	p.mu.Lock()
	closed, startErr := p.closed, p.startErr
	p.mu.Unlock()
	switch {
	case closed:
		return nil, errPoolClosed
	case startErr != nil:
		return nil, startErr
	}
	r, err := p.spawn()
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.startErr = fmt.Errorf("%w: %v", ErrReadersUnavailable, err)
		return nil, p.startErr
	}
	if p.closed {
		r.stop()
		return nil, errPoolClosed
	}
	p.live[r] = true
	return r, nil
}

// spawn starts a reader process and waits for its greeting.
func (p *ReaderPool) spawn() (*reader, error) {
	shm, err := newSharedMemory(initialShmSize)
	if err != nil {
		return nil, err
	}
	var files []*os.File
	closeAll := func() {
		for _, f := range files {
			f.Close()
		}
	}
	reqR, reqW, err := os.Pipe()
	if err != nil {
		shm.close()
		return nil, err
	}
	files = append(files, reqR, reqW)
	respR, respW, err := os.Pipe()
	if err != nil {
		shm.close()
		closeAll()
		return nil, err
	}
	files = append(files, respR, respW)
	cmd := exec.Command(p.exe)
	cmd.Env = append(os.Environ(), readerEnv+"=1")
	// The reader's standard output is the parent's standard error: nothing
	// a library prints may reach whatever the parent writes to stdout.
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.ExtraFiles = []*os.File{reqR, respW, shm.f} // fds 3, 4, 5
	if err := cmd.Start(); err != nil {
		shm.close()
		closeAll()
		return nil, err
	}
	reqR.Close()
	respW.Close()
	r := &reader{cmd: cmd, req: reqW, resp: respR, shm: shm, done: make(chan struct{})}
	go func() {
		r.waitErr = cmd.Wait()
		close(r.done)
	}()
	_ = respR.SetReadDeadline(time.Now().Add(helloTimeout))
	hello, err := readMsg(respR)
	_ = respR.SetReadDeadline(time.Time{})
	if err != nil || string(hello) != helloText {
		r.kill()
		<-r.done
		r.closeFiles()
		if err == nil {
			err = fmt.Errorf("it greeted with %q", hello)
		}
		return nil, fmt.Errorf("reader process %s did not start (%v; %v)", p.exe, err, r.waitErr)
	}
	return r, nil
}

func (r *reader) kill() { _ = r.cmd.Process.Kill() }

func (r *reader) closeFiles() {
	r.req.Close()
	r.resp.Close()
	r.shm.close()
}

// stop asks the reader to exit, by closing its request pipe, and kills it
// if it has not within stopTimeout.
func (r *reader) stop() error {
	r.req.Close()
	select {
	case <-r.done:
	case <-time.After(stopTimeout):
		r.kill()
		<-r.done
	}
	r.closeFiles()
	if r.waitErr != nil && !r.dead {
		return fmt.Errorf("netcdf: reader process %d: %v", r.cmd.Process.Pid, r.waitErr)
	}
	return nil
}

// exchange sends one request and waits for the reply, with the values in
// the shared memory. A context that ends meanwhile kills the process.
func (r *reader) exchange(ctx context.Context, q *request, into func(*sharedMemory)) error {
	need := slabBytes(q.count, q.wire)
	if need > len(r.shm.mem) {
		// Page-sized steps, at least doubling, so growth is rare.
		size := max(need, 2*len(r.shm.mem))
		size = (size + 1<<16 - 1) &^ (1<<16 - 1)
		if err := r.shm.resize(size); err != nil {
			r.dead = true
			return err
		}
	}
	q.shmSize = len(r.shm.mem)
	stop := context.AfterFunc(ctx, r.kill)
	_, err := r.req.Write(q.encode())
	var b []byte
	if err == nil {
		b, err = readMsg(r.resp)
	}
	if !stop() {
		r.dead = true
		return ctx.Err()
	}
	if err != nil {
		r.dead = true
		r.kill()
		<-r.done
		return fmt.Errorf("netcdf: reader process %d failed while reading %q in %s: %v", r.cmd.Process.Pid, q.name, q.path, r.waitErr)
	}
	rep, err := decodeReply(b)
	if err != nil {
		r.dead = true
		return fmt.Errorf("netcdf: reader process %d: %v", r.cmd.Process.Pid, err)
	}
	if rep.failed {
		return &Error{Op: rep.op, URI: q.path, Var: rep.varName, Code: rep.code, Msg: rep.msg}
	}
	into(r.shm)
	return nil
}

// PoolVar is a variable of a local file read through a ReaderPool. Its
// methods may be called from several goroutines: the pool serves as many
// reads at once as it has processes.
type PoolVar struct {
	pool       *ReaderPool
	path, name string
	cacheBytes int
}

// Var names the variable name of the file at path, whose HDF5 chunk cache
// each reader sets to cacheBytes when it first reads it (negative: leave
// libnetcdf's default). Nothing is opened until a read.
func (p *ReaderPool) Var(path, name string, cacheBytes int) *PoolVar {
	return &PoolVar{pool: p, path: path, name: name, cacheBytes: cacheBytes}
}

// Read is File.Read through a reader process.
func (v *PoolVar) Read(ctx context.Context, start, count, stride []int, dst []float64) error {
	return v.read(ctx, start, count, stride, len(dst), 8, func(m *sharedMemory) {
		copy(dst, m.float64s(len(dst)))
	})
}

// ReadFloat32 is File.ReadFloat32 through a reader process.
func (v *PoolVar) ReadFloat32(ctx context.Context, start, count, stride []int, dst []float32) error {
	return v.read(ctx, start, count, stride, len(dst), 4, func(m *sharedMemory) {
		copy(dst, m.float32s(len(dst)))
	})
}

func (v *PoolVar) read(ctx context.Context, start, count, stride []int, n, wire int, into func(*sharedMemory)) error {
	const op = "read"
	s, msg := makeSlab(start, count, stride)
	if msg == "" && n != s.n {
		msg = fmt.Sprintf("data has %d elements but count selects %d", n, s.n)
	}
	if msg != "" {
		return &Error{Op: op, URI: v.path, Var: v.name, Msg: msg}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if stride == nil {
		stride = make([]int, len(start))
		for i := range stride {
			stride[i] = 1
		}
	}
	r, err := v.pool.acquire(ctx)
	if err != nil {
		return err
	}
	defer v.pool.release(r)
	return r.exchange(ctx, &request{path: v.path, name: v.name, wire: wire, cacheBytes: v.cacheBytes,
		start: start, count: count, stride: stride}, into)
}
