package authtest

import (
	"errors"
	"io"
	"net"
	"sync"
	"testing"
)

// front is a TCP relay on a fixed loopback port in front of a provider. It
// lets a test take the provider down and up again without losing its
// in-memory state, and it cuts pooled keep-alive connections, which merely
// closing a listener would leave working.
type front struct {
	addr   string // 127.0.0.1:port, the same for the front's whole life
	target string // where the provider really listens

	mu    sync.Mutex
	ln    net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// listenFront reserves a loopback port; serve starts relaying once the
// target is known. It closes at tb.Cleanup.
func listenFront(tb testing.TB) *front {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("authtest: listen: %v", err)
	}
	f := &front{addr: ln.Addr().String(), ln: ln, conns: map[net.Conn]struct{}{}}
	tb.Cleanup(func() { f.stop(); f.wg.Wait() })
	return f
}

func (f *front) url() string { return "http://" + f.addr }

func (f *front) serve(target string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.target = target
	f.wg.Add(1)
	go f.accept(f.ln)
}

// start listens again on the same port after stop.
func (f *front) start() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		return err
	}
	f.ln = ln
	f.wg.Add(1)
	go f.accept(ln)
	return nil
}

// stop closes the listener and every relayed connection.
func (f *front) stop() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln != nil {
		f.ln.Close()
		f.ln = nil
	}
	for c := range f.conns {
		c.Close()
	}
	clear(f.conns)
}

func (f *front) accept(ln net.Listener) {
	defer f.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		f.wg.Add(1)
		go f.relay(c)
	}
}

func (f *front) track(c net.Conn) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ln == nil { // stopped meanwhile
		return false
	}
	f.conns[c] = struct{}{}
	return true
}

func (f *front) relay(in net.Conn) {
	defer f.wg.Done()
	out, err := net.Dial("tcp", f.target)
	if err != nil {
		in.Close()
		return
	}
	if !f.track(in) || !f.track(out) {
		in.Close()
		out.Close()
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		// Pass the half-close on, so HTTP/1.0-style "read to EOF" works.
		if tc, ok := dst.(*net.TCPConn); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go pipe(out, in)
	go pipe(in, out)
	<-done
	<-done
	in.Close()
	out.Close()
	f.mu.Lock()
	delete(f.conns, in)
	delete(f.conns, out)
	f.mu.Unlock()
}
