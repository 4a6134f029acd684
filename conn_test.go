package kafka

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/kpgo/kafka/protocol"
)

// dialReadAll connects to a loopback server that reads all it is sent,
// until the connection closes, and then hands it over on got.
func dialReadAll(t *testing.T) (nc net.Conn, got <-chan []byte) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ch := make(chan []byte, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			ch <- nil
			return
		}
		defer s.Close()
		b, _ := io.ReadAll(s)
		ch <- b
	}()
	nc, err = net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	return nc, ch
}

// writeVec sends what was buffered before it, then the frame with the
// spliced parts in their places, over a real TCP connection (where
// net.Buffers become one writev).
func TestWriteVecSplicesInPlace(t *testing.T) {
	nc, got := dialReadAll(t)
	c := &conn{nc: nc}
	_, c.vectored = nc.(*net.TCPConn)
	require.True(t, c.vectored)

	big := bytes.Repeat([]byte("B"), 100_000)
	frame := []byte("head|mid|tail")
	splices := []protocol.Splice{{At: 5, Bytes: []byte("one")}, {At: 9, Bytes: big}, {At: 9, Bytes: []byte("two")}}
	w := bufio.NewWriterSize(nc, 64<<10)
	_, err := w.WriteString("earlier|")
	require.NoError(t, err)
	vec, err := c.writeVec(w, nil, frame, splices)
	require.NoError(t, err)
	require.Empty(t, vec)
	require.NoError(t, nc.Close())

	want := "earlier|head|one" + "mid|" + string(big) + "two" + "tail"
	require.Equal(t, want, string(<-got))
}

// A request that gets no answer (acks=0) is done once written, so its bytes
// must have left the write buffer by then: here the connection fails while
// the request queued behind it is still being encoded, which must not take
// the first request's bytes with it.
func TestNoResponseRequestFlushedBeforeDone(t *testing.T) {
	nc, got := dialReadAll(t)
	c := &conn{
		nc: nc, writeCh: make(chan *request, 4), pending: make(chan *request, 4),
		quit: make(chan struct{}), writerDone: make(chan struct{}),
	}

	firstDone := make(chan error, 1)
	release := make(chan struct{})
	secondDone := make(chan error, 1)
	c.writeCh <- &request{
		apiKey: protocol.APIKeyProduce, version: 3, noResponse: true,
		encode: func(dst []byte) ([]byte, error) { return append(dst, "first-request-body"...), nil },
		done:   func(_ []byte, err error) { firstDone <- err },
	}
	c.writeCh <- &request{
		apiKey: protocol.APIKeyProduce, version: 3, noResponse: true,
		encode: func(dst []byte) ([]byte, error) {
			<-release
			return append(dst, "second"...), nil
		},
		done: func(_ []byte, err error) { secondDone <- err },
	}
	c.wg.Add(1)
	go c.writeLoop()

	require.NoError(t, <-firstDone)
	c.fail(errConnClosed)
	close(release)
	require.Error(t, <-secondDone)
	c.wg.Wait()
	require.Contains(t, string(<-got), "first-request-body")
}
