package compress

import (
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// The cache builds an encoder only when none is idle, hands back the one
// put back last, and keeps what it built across garbage collections.
func TestEncoderCache(t *testing.T) {
	built := 0
	c := newEncoderCache(func() *int { built++; v := built; return &v })
	for range 100 {
		c.put(c.get())
	}
	require.Equal(t, 1, built, "one caller at a time needs one encoder")

	a, b := c.get(), c.get()
	require.Equal(t, 2, built)
	c.put(a)
	c.put(b)
	require.Same(t, b, c.get(), "last in, first out")
	c.put(b)

	runtime.GC()
	runtime.GC()
	c.put(c.get())
	c.put(c.get())
	require.Equal(t, 2, built, "collections do not drop idle encoders")
}

// Every Compressor reuses its encoders: compressing sequentially builds
// one, whatever the codec.
func TestCompressorReusesEncoders(t *testing.T) {
	src := []byte("a batch of records, a batch of records, a batch of records")
	for _, codec := range []Codec{Gzip, LZ4, Zstd} {
		comp, err := NewCompressor(codec, DefaultLevel)
		require.NoError(t, err)
		for range 10 {
			out, err := comp.Compress(nil, src)
			require.NoError(t, err)
			back, err := Decompress(codec, nil, out, len(src))
			require.NoError(t, err)
			require.Equal(t, src, back)
		}
		var idle int
		switch c := comp.(type) {
		case gzipCompressor:
			idle = len(c.cache.idle)
		case lz4Compressor:
			idle = len(c.cache.idle)
		case zstdCompressor:
			idle = len(c.cache.idle)
		}
		require.Equal(t, 1, idle, "%v", codec)
	}
}
