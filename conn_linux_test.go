package kafka

import (
	"context"
	"net"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// The socket buffer options reach the broker sockets. Linux reports twice
// the size set (socket(7)), its bookkeeping included.
func TestSocketBufferSizes(t *testing.T) {
	env := newTestEnv(t)
	topic := env.topic(1)
	var mu sync.Mutex
	var conns []*net.TCPConn
	d := &net.Dialer{}
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := d.DialContext(ctx, network, addr)
		if tc, ok := nc.(*net.TCPConn); ok {
			mu.Lock()
			conns = append(conns, tc)
			mu.Unlock()
		}
		return nc, err
	}
	// sizes reports a connection's buffers; ok is false once the
	// producer closed it (bootstrap connections, for one).
	sizes := func(tc *net.TCPConn) (snd, rcv int, ok bool) {
		rc, err := tc.SyscallConn()
		require.NoError(t, err)
		if rc.Control(func(fd uintptr) {
			snd, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_SNDBUF)
			require.NoError(t, err)
			rcv, err = syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF)
			require.NoError(t, err)
		}) != nil {
			return 0, 0, false
		}
		return snd, rcv, true
	}

	// taken returns the connections dialed since the last call.
	taken := func() []*net.TCPConn {
		mu.Lock()
		defer mu.Unlock()
		out := conns
		conns = nil
		return out
	}
	// check produces a record, so a broker connection is open, and runs
	// want on every connection still open.
	check := func(p *Producer, want func(snd, rcv int)) {
		f, err := p.Send(context.Background(), Record{Topic: topic, Value: []byte("x")})
		require.NoError(t, err)
		_, err = f.Get(context.Background())
		require.NoError(t, err)
		open := 0
		for _, tc := range taken() {
			if snd, rcv, ok := sizes(tc); ok {
				open++
				want(snd, rcv)
			}
		}
		require.Positive(t, open)
	}

	check(env.producer(Dialer(dial), SendBufferBytes(96<<10), ReceiveBufferBytes(48<<10)), func(snd, rcv int) {
		require.Equal(t, 2*96<<10, snd, "SO_SNDBUF")
		require.Equal(t, 2*48<<10, rcv, "SO_RCVBUF")
	})
	// The default leaves the kernel's sizes alone.
	check(env.producer(Dialer(dial)), func(snd, rcv int) {
		require.NotEqual(t, 2*96<<10, snd)
		require.NotEqual(t, 2*48<<10, rcv)
	})
}
