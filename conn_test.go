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

// writeVec sends what was buffered before it, then the frame with the
// spliced parts in their places, over a real TCP connection (where
// net.Buffers become one writev).
func TestWriteVecSplicesInPlace(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		s, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer s.Close()
		b, _ := io.ReadAll(s)
		got <- b
	}()
	nc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	c := &conn{nc: nc}
	_, c.vectored = nc.(*net.TCPConn)
	require.True(t, c.vectored)

	big := bytes.Repeat([]byte("B"), 100_000)
	frame := []byte("head|mid|tail")
	splices := []protocol.Splice{{At: 5, Bytes: []byte("one")}, {At: 9, Bytes: big}, {At: 9, Bytes: []byte("two")}}
	w := bufio.NewWriterSize(nc, 64<<10)
	_, err = w.WriteString("earlier|")
	require.NoError(t, err)
	vec, err := c.writeVec(w, nil, frame, splices)
	require.NoError(t, err)
	require.Empty(t, vec)
	require.NoError(t, nc.Close())

	want := "earlier|head|one" + "mid|" + string(big) + "two" + "tail"
	require.Equal(t, want, string(<-got))
}
