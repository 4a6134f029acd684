package compress

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRoundTrip(t *testing.T) {
	inputs := testInputs()
	for _, tc := range codecs {
		for _, level := range tc.levels {
			t.Run(tc.codec.String()+"/"+levelName(level), func(t *testing.T) {
				comp, err := NewCompressor(tc.codec, level)
				require.NoError(t, err)
				for name, src := range inputs {
					compressed, err := comp.Compress(nil, src)
					require.NoError(t, err, name)
					got, err := Decompress(tc.codec, nil, compressed, max(len(src), 1))
					require.NoError(t, err, name)
					require.True(t, bytes.Equal(src, got), "%s: round trip differs", name)
				}
			})
		}
	}
}

func TestCompressAppendsToDst(t *testing.T) {
	src := records(100 << 10)
	prefix := []byte("prefix")
	for _, tc := range codecs {
		comp, err := NewCompressor(tc.codec, DefaultLevel)
		require.NoError(t, err)
		alone, err := comp.Compress(nil, src)
		require.NoError(t, err)

		// Both with room to spare and with none, the output lands after
		// what dst held, byte for byte what a nil dst gets.
		for _, dst := range [][]byte{append([]byte(nil), prefix...), append(make([]byte, 0, 1<<20), prefix...)} {
			out, err := comp.Compress(dst, src)
			require.NoError(t, err)
			require.Equal(t, prefix, out[:len(prefix)], tc.codec.String())
			require.Equal(t, alone, out[len(prefix):], tc.codec.String())

			plain, err := Decompress(tc.codec, append([]byte(nil), prefix...), out[len(prefix):], len(src))
			require.NoError(t, err)
			require.Equal(t, prefix, plain[:len(prefix)])
			require.True(t, bytes.Equal(src, plain[len(prefix):]))
		}
	}
}

func TestDecompressLimitBoundary(t *testing.T) {
	// Exactly maxSize bytes is fine, one more is not, for output that
	// arrives in one block and in many.
	for _, size := range []int{1, 1000, 32 << 10, 64 << 10, 200 << 10} {
		src := records(size)
		for _, tc := range codecs {
			compressed := mustCompress(t, tc.codec, DefaultLevel, src)
			got, err := Decompress(tc.codec, nil, compressed, size)
			require.NoError(t, err, "%v size %d", tc.codec, size)
			require.True(t, bytes.Equal(src, got))

			if size > 1 {
				dst := []byte("keep")
				got, err = Decompress(tc.codec, dst, compressed, size-1)
				require.ErrorIs(t, err, ErrTooLarge, "%v size %d", tc.codec, size)
				require.Equal(t, []byte("keep"), got, "on error the result has dst's length")
			}
		}
	}
}

func TestConcurrentUse(t *testing.T) {
	// Many goroutines share one Compressor per codec and level and the
	// decoder pools; -race checks the pooling.
	inputs := [][]byte{
		{},
		[]byte("small"),
		records(16 << 10),
		records(100 << 10),
		randomBytes(70<<10, 3),
	}
	var comps []Compressor
	for _, tc := range codecs {
		for _, level := range tc.levels[:min(len(tc.levels), 3)] {
			comp, err := NewCompressor(tc.codec, level)
			require.NoError(t, err)
			comps = append(comps, comp)
		}
	}
	const goroutines = 32
	const rounds = 8
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			var dst, plain []byte
			for r := range rounds {
				comp := comps[(g+r)%len(comps)]
				src := inputs[(g*rounds+r)%len(inputs)]
				var err error
				dst, err = comp.Compress(dst[:0], src)
				if err != nil {
					errs <- err
					return
				}
				plain, err = Decompress(comp.Codec(), plain[:0], dst, len(src)+1)
				if err != nil {
					errs <- fmt.Errorf("%v: %w", comp.Codec(), err)
					return
				}
				if !bytes.Equal(src, plain) {
					errs <- fmt.Errorf("%v: round trip of %d bytes differs", comp.Codec(), len(src))
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
}

func TestCompressIsDeterministic(t *testing.T) {
	// Reused, pooled encoders must not carry state from one batch into
	// the next.
	a, b := records(50<<10), randomBytes(50<<10, 9)
	for _, tc := range codecs {
		for _, level := range tc.levels {
			comp, err := NewCompressor(tc.codec, level)
			require.NoError(t, err)
			first, err := comp.Compress(nil, a)
			require.NoError(t, err)
			for range 3 {
				_, err = comp.Compress(nil, b)
				require.NoError(t, err)
				again, err := comp.Compress(nil, a)
				require.NoError(t, err)
				require.Equal(t, first, again, "%v level %s", tc.codec, levelName(level))
			}
		}
	}
}
