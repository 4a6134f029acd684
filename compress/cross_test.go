package compress

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
)

// The cross tests pair our codecs with implementations called directly:
// the standard library's gzip (ours uses klauspost's), golang/snappy's raw
// blocks with the xerial framing parsed and written here, and pierrec's lz4
// and klauspost's zstd used with their own defaults rather than through
// this package's pooled, configured wrappers.

// crossInputs are fewer than testInputs, to keep the level matrix quick
// under -race, but still cross the snappy and lz4 block sizes.
func crossInputs() map[string][]byte {
	return map[string][]byte{
		"empty":          {},
		"one byte":       {42},
		"small":          []byte("hello, kafka"),
		"64KiB+1":        records(64<<10 + 1),
		"records 300KiB": records(300 << 10),
		"random 100KiB":  randomBytes(100<<10, 11),
		"zeros 200KiB":   make([]byte, 200<<10),
	}
}

// indepXerialMagic is snappy-java's stream header, spelled out here rather
// than taken from snappy.go.
var indepXerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

// errIndepTooLarge reports that an independent decoder's output passed
// the limit it was given.
var errIndepTooLarge = errors.New("independent decoder: output over limit")

// indepXerialDecode parses the xerial framing (header, then big-endian
// int32 length and raw snappy block, repeated) and stops at limit.
func indepXerialDecode(src []byte, limit int) ([]byte, error) {
	if len(src) < len(indepXerialMagic) || !bytes.Equal(src[:8], indepXerialMagic[:8]) {
		return nil, errors.New("no xerial header")
	}
	src = src[len(indepXerialMagic):]
	var out []byte
	for len(src) > 0 {
		if len(src) < 4 {
			return nil, errors.New("short block length")
		}
		n := binary.BigEndian.Uint32(src)
		if n == binary.BigEndian.Uint32(indepXerialMagic) {
			// A concatenated stream's header.
			if len(src) < len(indepXerialMagic) || !bytes.Equal(src[:8], indepXerialMagic[:8]) {
				return nil, errors.New("bad concatenated header")
			}
			src = src[len(indepXerialMagic):]
			continue
		}
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return nil, errors.New("short block")
		}
		dlen, err := snappy.DecodedLen(src[:n])
		if err != nil {
			return nil, err
		}
		if len(out)+dlen > limit {
			return nil, errIndepTooLarge
		}
		block, err := snappy.Decode(nil, src[:n])
		if err != nil {
			return nil, err
		}
		out = append(out, block...)
		src = src[n:]
	}
	return out, nil
}

// indepXerialEncode writes the xerial framing with the given block size.
func indepXerialEncode(src []byte, blockSize int) []byte {
	out := bytes.Clone(indepXerialMagic)
	for len(src) > 0 {
		n := min(len(src), blockSize)
		enc := snappy.Encode(nil, src[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
		out = append(out, enc...)
		src = src[n:]
	}
	return out
}

// readLimited reads r to the end but no further than limit bytes.
func readLimited(r io.Reader, limit int) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, err
	}
	if len(out) > limit {
		return nil, errIndepTooLarge
	}
	return out, nil
}

// indepZstdWindow bounds the windows the independent zstd decoder accepts,
// so that fuzz inputs declaring huge windows cannot make it allocate them.
const indepZstdWindow = 8 << 20

// indepDecompress decodes src with the independent implementation of c,
// stopping with errIndepTooLarge past limit.
func indepDecompress(c Codec, src []byte, limit int) ([]byte, error) {
	switch c {
	case None:
		return bytes.Clone(src), nil
	case Gzip:
		r, err := stdgzip.NewReader(bytes.NewReader(src))
		if err != nil {
			return nil, err
		}
		return readLimited(r, limit)
	case Snappy:
		if len(src) >= 8 && bytes.Equal(src[:8], indepXerialMagic[:8]) {
			return indepXerialDecode(src, limit)
		}
		n, err := snappy.DecodedLen(src)
		if err != nil {
			return nil, err
		}
		if n > limit {
			return nil, errIndepTooLarge
		}
		return snappy.Decode(nil, src)
	case LZ4:
		return readLimited(lz4.NewReader(bytes.NewReader(src)), limit)
	case Zstd:
		d, err := zstd.NewReader(bytes.NewReader(src), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(indepZstdWindow))
		if err != nil {
			return nil, err
		}
		defer d.Close()
		return readLimited(d, limit)
	}
	return nil, fmt.Errorf("codec %v", c)
}

// indepLZ4Level picks a pierrec level for a Kafka lz4 level; any valid
// frame will do, so this only spreads the levels out.
func indepLZ4Level(level int) lz4.CompressionLevel {
	switch {
	case level == DefaultLevel || level >= 9:
		return lz4.Fast
	case level <= 3:
		return lz4.Level1
	default:
		return lz4.Level5
	}
}

// indepCompress compresses src with the independent implementation at the
// Kafka level, in every framing another client may send. Each result is
// named.
func indepCompress(t testing.TB, c Codec, level int, src []byte) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	switch c {
	case None:
		out["none"] = bytes.Clone(src)
	case Gzip:
		gl := stdgzip.DefaultCompression
		if level != DefaultLevel {
			gl = level
		}
		var buf bytes.Buffer
		w, err := stdgzip.NewWriterLevel(&buf, gl)
		require.NoError(t, err)
		_, err = w.Write(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		out["stdlib"] = bytes.Clone(buf.Bytes())
		// Two members, as GZIPInputStream reads them.
		half := len(src) / 2
		buf.Reset()
		for _, part := range [][]byte{src[:half], src[half:]} {
			w.Reset(&buf)
			_, err = w.Write(part)
			require.NoError(t, err)
			require.NoError(t, w.Close())
		}
		out["stdlib two members"] = buf.Bytes()
	case Snappy:
		out["xerial"] = indepXerialEncode(src, 32<<10)
		out["xerial 1000-byte blocks"] = indepXerialEncode(src, 1000)
		out["xerial twice"] = append(indepXerialEncode(src[:len(src)/2], 32<<10), indepXerialEncode(src[len(src)/2:], 32<<10)...)
		out["raw"] = snappy.Encode(nil, src)
	case LZ4:
		for _, opts := range []struct {
			name string
			o    []lz4.Option
		}{
			{"defaults", []lz4.Option{lz4.CompressionLevelOption(indepLZ4Level(level))}},
			// The framing variants need not repeat the slow levels.
			{"64KiB blocks, block checksums", []lz4.Option{lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(true), lz4.ChecksumOption(false)}},
			{"256KiB blocks, content size", []lz4.Option{lz4.BlockSizeOption(lz4.Block256Kb), lz4.SizeOption(uint64(len(src)))}},
		} {
			var buf bytes.Buffer
			w := lz4.NewWriter(&buf)
			require.NoError(t, w.Apply(opts.o...))
			_, err := w.Write(src)
			require.NoError(t, err)
			require.NoError(t, w.Close())
			out[opts.name] = buf.Bytes()
		}
	case Zstd:
		zl := zstd.SpeedDefault
		if level != DefaultLevel && level != 0 {
			zl = zstd.EncoderLevelFromZstd(level)
		}
		e := indepZstdEncoder(t, zl)
		out["EncodeAll"] = e.EncodeAll(src, nil)
		// A stream with no content size and an 8 MiB window, far larger
		// than the limit the decoder is given: our decoder lowers the
		// declared window, which must not break real data.
		var buf bytes.Buffer
		e.Reset(&buf)
		_, err := e.Write(src)
		require.NoError(t, err)
		require.NoError(t, e.Close())
		out["stream 8MiB window"] = buf.Bytes()
	}
	return out
}

// indepZstdEncoders caches one encoder per klauspost level: building a
// strong one is slow under -race, and Reset makes reuse safe.
var indepZstdEncoders = map[zstd.EncoderLevel]*zstd.Encoder{}

func indepZstdEncoder(t testing.TB, level zstd.EncoderLevel) *zstd.Encoder {
	if e := indepZstdEncoders[level]; e != nil {
		return e
	}
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(level), zstd.WithWindowSize(8<<20), zstd.WithEncoderConcurrency(1))
	require.NoError(t, err)
	indepZstdEncoders[level] = e
	return e
}

func TestOursDecodedIndependently(t *testing.T) {
	inputs := crossInputs()
	for _, tc := range codecs {
		for _, level := range tc.levels {
			t.Run(tc.codec.String()+"/"+levelName(level), func(t *testing.T) {
				comp, err := NewCompressor(tc.codec, level)
				require.NoError(t, err)
				for name, src := range inputs {
					compressed, err := comp.Compress(nil, src)
					require.NoError(t, err, name)
					got, err := indepDecompress(tc.codec, compressed, len(src))
					require.NoError(t, err, name)
					require.True(t, bytes.Equal(src, got), "%s: independent decoder disagrees", name)
					checkWireForm(t, tc.codec, compressed, name)
				}
			})
		}
	}
}

// checkWireForm checks the framing choices the Java client's readers
// depend on, beyond "it decodes".
func checkWireForm(t *testing.T, c Codec, b []byte, name string) {
	t.Helper()
	switch c {
	case Gzip:
		// One member: after it, nothing.
		r, err := stdgzip.NewReader(bytes.NewReader(b))
		require.NoError(t, err, name)
		r.Multistream(false)
		_, err = io.Copy(io.Discard, r)
		require.NoError(t, err, name)
		rest, err := io.ReadAll(r)
		require.NoError(t, err, name)
		require.Empty(t, rest, name)
	case Snappy:
		// Always the xerial framing (SnappyOutputStream), never a raw
		// block, and blocks of at most 32 KiB of input.
		require.Equal(t, indepXerialMagic, b[:len(indepXerialMagic)], name)
	case LZ4:
		// KIP-57 frame: FLG version 01 with independent blocks and no
		// block or content checksum; BD 64 KiB blocks.
		require.Equal(t, uint32(0x184D2204), binary.LittleEndian.Uint32(b), name)
		require.Equal(t, byte(0x60), b[4], "%s: FLG", name)
		require.Equal(t, byte(0x40), b[5], "%s: BD", name)
	case Zstd:
		require.Equal(t, uint32(0xFD2FB528), binary.LittleEndian.Uint32(b), name)
		require.Zero(t, b[4]&0x04, "%s: no content checksum", name)
	}
}

func TestIndependentDecodedByUs(t *testing.T) {
	inputs := crossInputs()
	for _, tc := range codecs {
		for _, level := range tc.levels {
			t.Run(tc.codec.String()+"/"+levelName(level), func(t *testing.T) {
				for name, src := range inputs {
					for form, compressed := range indepCompress(t, tc.codec, level, src) {
						got, err := Decompress(tc.codec, nil, compressed, max(len(src), 1))
						require.NoError(t, err, "%s, %s", name, form)
						require.True(t, bytes.Equal(src, got), "%s, %s: round trip differs", name, form)
						if len(src) > 1 && tc.codec != None {
							_, err = Decompress(tc.codec, nil, compressed, len(src)-1)
							require.ErrorIs(t, err, ErrTooLarge, "%s, %s", name, form)
						}
					}
				}
			})
		}
	}
}
