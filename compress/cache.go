package compress

import "sync"

// encoderCache keeps one Compressor's idle encoders. A sync.Pool is
// emptied by garbage collection: it dropped a zstd encoder's 1.3 MiB of
// tables every other cycle, and a producer compressing at speed runs many
// cycles, so new encoders were built while the dropped ones still waited
// for the collector. The cache holds no more encoders than its
// Compressor's callers once used at the same time, and goes with it.
type encoderCache[T any] struct {
	mu    sync.Mutex
	idle  []T
	newFn func() T
}

func newEncoderCache[T any](newFn func() T) *encoderCache[T] {
	return &encoderCache[T]{newFn: newFn}
}

// get returns the encoder put back last, whose state is likeliest to be
// in the CPU's caches still, or a new one.
func (c *encoderCache[T]) get() T {
	c.mu.Lock()
	if n := len(c.idle); n > 0 {
		e := c.idle[n-1]
		var zero T
		c.idle[n-1] = zero
		c.idle = c.idle[:n-1]
		c.mu.Unlock()
		return e
	}
	c.mu.Unlock()
	return c.newFn()
}

func (c *encoderCache[T]) put(e T) {
	c.mu.Lock()
	c.idle = append(c.idle, e)
	c.mu.Unlock()
}
