package kafka

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// The arena hands out buffer_memory's worth of standard buffers from
// outside the Go heap, takes them back, and is unmapped only once all are
// back. Under the race detector (or where mmap is missing) there is no
// arena and every buffer comes from the heap.
func TestBufferPoolArena(t *testing.T) {
	const size = 4096
	p := newBufferPool("buffer_memory", "bytes", 4*size+100, size)
	if p.arena == nil {
		t.Skip("no arena in this build (race detector or no mmap)")
	}
	var bufs [][]byte
	for range 4 {
		b := p.getBuf(size)
		require.True(t, p.inArena(b))
		require.Equal(t, size, cap(b))
		b = append(b, make([]byte, size)...) // writable, to its end
		bufs = append(bufs, b)
	}
	// Distinct buffers, none overlapping the next.
	for i := 1; i < len(bufs); i++ {
		require.NotSame(t, &bufs[i-1][0], &bufs[i][0])
	}
	extra := p.getBuf(size)
	require.False(t, p.inArena(extra), "beyond the arena, buffers come from the heap")
	require.False(t, p.inArena(p.getBuf(2*size)), "large buffers come from the heap")
	require.Equal(t, 4, p.arenaOut)

	for _, b := range bufs[1:] {
		p.putBuf(b)
	}
	p.putBuf(extra)
	p.unmap()
	require.NotNil(t, p.arena, "a buffer is still out")
	p.putBuf(bufs[0])
	require.Zero(t, p.arenaOut)
	p.unmap()
	require.Nil(t, p.arena)
	require.Empty(t, p.free)
}

// A producer's arena goes back to the system at Close, every buffer
// having come back.
func TestCloseUnmapsArena(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(3)
	p := env.producer()
	if p.acc.pool.arena == nil {
		t.Skip("no arena in this build (race detector or no mmap)")
	}
	sendNumbered(t, p, topic, 2000)
	require.NoError(t, p.Close(context.Background()))
	require.Nil(t, p.acc.pool.arena)
}
