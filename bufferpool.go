package kafka

import (
	"context"
	"fmt"
	"sync"
	"time"
	"unsafe"
)

// bufferPool bounds the bytes (and optionally the records) buffered and
// not yet acknowledged: buffer_memory. Room is taken a batch at a time, so
// its mutex is not on the per-record path. Waiters are served in order, so
// a large batch is not starved by small ones.
type bufferPool struct {
	mu      sync.Mutex
	name    string // the option that sets total, for errors
	unit    string
	total   int64
	avail   int64
	waiters []*poolWaiter
	closed  bool

	// free holds batch buffers of the standard size for reuse.
	free    [][]byte
	bufSize int
	// arena, where the platform allows, holds total's worth of the
	// standard buffers outside the Go heap. On the heap, buffer_memory's
	// worth of live buffers lets the collector grow the heap to about
	// twice that before it runs, so the producer took twice
	// buffer_memory (issue 7). arenaOut counts its buffers handed out.
	arena    []byte
	arenaOut int

	// waited, if set, is told how long an acquire that had to wait
	// waited and how it ended (metrics; never called on the fast path).
	waited func(time.Duration, error)
	// noWait, if set, says an acquire must not wait: its goroutine is
	// the one whose work gives room back (callbackg.go).
	noWait func() bool
}

type poolWaiter struct {
	need  int64
	ready chan struct{}
	err   error
}

func newBufferPool(name, unit string, total int64, bufSize int) *bufferPool {
	p := &bufferPool{name: name, unit: unit, total: total, avail: total, bufSize: bufSize}
	if bufSize > 0 {
		n := int(total / int64(bufSize))
		p.arena = mapArena(n * bufSize)
		// Stacked so that the first buffer is handed out first: pages
		// are touched only as buffers are needed.
		for i := n - 1; i >= 0 && p.arena != nil; i-- {
			p.free = append(p.free, p.arena[i*bufSize:i*bufSize:(i+1)*bufSize])
		}
	}
	return p
}

// inArena reports whether b is one of the arena's buffers.
func (p *bufferPool) inArena(b []byte) bool {
	if len(p.arena) == 0 || cap(b) == 0 {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.SliceData(p.arena)))
	at := uintptr(unsafe.Pointer(unsafe.SliceData(b)))
	return at >= start && at < start+uintptr(len(p.arena))
}

// unmap returns the arena to the system once every buffer is back; a
// buffer still out, which Close's waits rule out, keeps it mapped.
func (p *bufferPool) unmap() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.arena == nil || p.arenaOut > 0 {
		return
	}
	p.free = nil
	unmapArena(p.arena)
	p.arena = nil
}

// acquire takes n bytes of room, waiting until deadline or ctx's end.
func (p *bufferPool) acquire(ctx context.Context, n int64, deadline *blockDeadline) (err error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return ErrProducerClosed
	}
	if len(p.waiters) == 0 && p.avail >= n {
		p.avail -= n
		p.mu.Unlock()
		return nil
	}
	if p.noWait != nil && p.noWait() {
		p.mu.Unlock()
		return fmt.Errorf("%w: %w", ErrBufferFull, callbackErr("a Send waiting for room in "+p.name))
	}
	w := &poolWaiter{need: n, ready: make(chan struct{})}
	p.waiters = append(p.waiters, w)
	p.mu.Unlock()
	if p.waited != nil {
		defer func(start time.Time) { p.waited(time.Since(start), err) }(time.Now())
	}

	wait := time.Until(deadline.get())
	if wait < 0 {
		wait = 0
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	var cause error
	select {
	case <-w.ready:
		return w.err
	case <-timer.C:
		cause = fmt.Errorf("%w: no room for %d %s in %s (%d) within max_block_ms", ErrBufferFull, n, p.unit, p.name, p.total)
	case <-ctx.Done():
		cause = fmt.Errorf("%w: %w", ErrBufferFull, ctx.Err())
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-w.ready:
		// Served while we gave up: keep the outcome we were given.
		return w.err
	default:
	}
	for i, x := range p.waiters {
		if x == w {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	// Our leaving may let the waiters behind us in.
	p.serveLocked()
	return cause
}

// tryAcquire takes n bytes of room if they are free and nobody waits,
// without waiting.
func (p *bufferPool) tryAcquire(n int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.waiters) > 0 || p.avail < n {
		return false
	}
	p.avail -= n
	return true
}

// release returns n bytes of room.
func (p *bufferPool) release(n int64) {
	p.mu.Lock()
	p.avail += n
	p.serveLocked()
	p.mu.Unlock()
}

func (p *bufferPool) serveLocked() {
	for len(p.waiters) > 0 && p.waiters[0].need <= p.avail {
		w := p.waiters[0]
		p.waiters = p.waiters[1:]
		p.avail -= w.need
		close(w.ready)
	}
}

// close fails every waiter and every later acquire with ErrProducerClosed.
func (p *bufferPool) close() {
	p.mu.Lock()
	p.closed = true
	for _, w := range p.waiters {
		w.err = ErrProducerClosed
		close(w.ready)
	}
	p.waiters = nil
	p.mu.Unlock()
}

// available reports the free bytes.
func (p *bufferPool) available() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.avail
}

// getBuf returns a buffer with at least n bytes of capacity, reusing a
// standard-size one when n fits.
func (p *bufferPool) getBuf(n int) []byte {
	if n <= p.bufSize {
		p.mu.Lock()
		if k := len(p.free); k > 0 {
			b := p.free[k-1]
			p.free[k-1] = nil
			p.free = p.free[:k-1]
			if p.inArena(b) {
				p.arenaOut++
			}
			p.mu.Unlock()
			return b[:0]
		}
		p.mu.Unlock()
		return make([]byte, 0, p.bufSize)
	}
	return make([]byte, 0, n)
}

// putBuf keeps a standard-size buffer for reuse; the pool never keeps more
// than buffer_memory allows.
func (p *bufferPool) putBuf(b []byte) {
	if cap(b) != p.bufSize {
		return
	}
	p.mu.Lock()
	if p.inArena(b) {
		p.arenaOut--
		p.free = append(p.free, b[:0])
	} else if int64(len(p.free)+1)*int64(p.bufSize) <= p.total {
		p.free = append(p.free, b[:0])
	}
	p.mu.Unlock()
}
