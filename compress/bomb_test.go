package compress

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
)

// bombLimit is the maxSize the bomb tests decode with; every bomb expands
// to at least bombExpansion times it (snappy's, which cannot expand more
// than about 21:1, to snappyExpansion times).
const (
	bombLimit       = 250 << 10 // not a power of two, so doubling never lands on it
	bombExpansion   = 256
	snappyExpansion = 64
)

// repeatBytes returns n copies of b back to back.
func repeatBytes(b []byte, n int) []byte { return bytes.Repeat(b, n) }

func gzipBomb(t testing.TB) []byte {
	// Deflate tops out near 1000:1, so one 1 MiB member of zeros is
	// about 1 KiB; concatenated members (which Decompress reads, as
	// GZIPInputStream does) multiply it.
	var buf bytes.Buffer
	w, err := stdgzip.NewWriterLevel(&buf, stdgzip.BestCompression)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return repeatBytes(buf.Bytes(), bombLimit*bombExpansion>>20)
}

// snappyBombs covers both forms Decompress reads. Snappy cannot expand
// more than about 21:1, so its bombs rely on headers that lie: a raw block
// whose declared length is 4 GiB-1, and xerial blocks that each declare
// their full length honestly but add up to far more than the limit.
func snappyBombs(t testing.TB) map[string][]byte {
	zeros := snappy.Encode(nil, make([]byte, 32<<10))
	xerial := bytes.Clone(indepXerialMagic)
	for range bombLimit * snappyExpansion / (32 << 10) {
		xerial = binary.BigEndian.AppendUint32(xerial, uint32(len(zeros)))
		xerial = append(xerial, zeros...)
	}
	// A raw block: uvarint length 0xffffffff, then one literal byte.
	lying := []byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 'x'}
	return map[string][]byte{
		"raw 16MiB":           snappy.Encode(nil, make([]byte, bombLimit*snappyExpansion)),
		"raw lying length":    lying,
		"xerial 16MiB":        xerial,
		"xerial lying length": append(bytes.Clone(indepXerialMagic), append([]byte{0, 0, 0, byte(len(lying))}, lying...)...),
	}
}

func lz4Bombs(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for name, bs := range map[string]lz4.BlockSize{"64KiB blocks": lz4.Block64Kb, "4MiB blocks": lz4.Block4Mb} {
		// One frame of 4 MiB of zeros, repeated: lz4 reads
		// concatenated frames.
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		require.NoError(t, w.Apply(lz4.BlockSizeOption(bs)))
		_, err := w.Write(make([]byte, 4<<20))
		require.NoError(t, err)
		require.NoError(t, w.Close())
		out[name] = repeatBytes(buf.Bytes(), bombLimit*bombExpansion/(4<<20))
	}
	return out
}

// zstdRLEFrame hand-writes a frame of RLE blocks: each 128 KiB block of
// one repeated byte costs 4 bytes. window is the Window_Descriptor byte
// (RFC 8878 3.1.1.1.2) and blocks their count; no content size is
// declared, so nothing but decoding shows the size.
func zstdRLEFrame(window byte, blocks int) []byte {
	b := binary.LittleEndian.AppendUint32(nil, zstdFrameMagic)
	b = append(b, 0x00, window) // FHD: no content size, checksum or dictionary.
	for i := range blocks {
		// Block header, 3 bytes little-endian: size<<3 | type<<1 |
		// last, with type 1 (RLE).
		h := uint32(128<<10)<<3 | 1<<1
		if i == blocks-1 {
			h |= 1
		}
		b = append(b, byte(h), byte(h>>8), byte(h>>16), 'z')
	}
	return b
}

func zstdBombs(t testing.TB) map[string][]byte {
	blocks := bombLimit * bombExpansion / (128 << 10)
	e, err := zstd.NewWriter(nil)
	require.NoError(t, err)
	defer e.Close()
	return map[string][]byte{
		// Declares its content size, so it fails before decoding.
		"EncodeAll": e.EncodeAll(make([]byte, bombLimit*bombExpansion), nil),
		// A 1 GiB window (exponent 20): without lowering it, a stream
		// decoder would allocate it up front.
		"RLE 1GiB window": zstdRLEFrame(20<<3, blocks),
		// The largest window a frame can declare, 3.75 TiB.
		"RLE max window":  zstdRLEFrame(0xff, blocks),
		"RLE 1MiB window": zstdRLEFrame(10<<3, blocks),
		"RLE many frames": repeatBytes(zstdRLEFrame(10<<3, 8), blocks/8),
	}
}

// bombAllowance is what decoding a bomb may allocate beyond the output
// buffer itself (at most about 2*bombLimit while it doubles): codec state
// built or refilled after the pools were emptied by GC.
func bombAllowance(c Codec, name string) uint64 {
	switch {
	case c == LZ4 && name == "4MiB blocks":
		// pierrec takes two block buffers of the frame's block size
		// from its pool.
		return 2*(4<<20) + 1<<20
	case c == Zstd:
		// The window, lowered to bombLimit plus two blocks, and the
		// decoder's buffers.
		return 4 << 20
	}
	return 1 << 20
}

func TestDecompressionBombs(t *testing.T) {
	bombs := map[Codec]map[string][]byte{
		Gzip:   {"members": gzipBomb(t)},
		Snappy: snappyBombs(t),
		LZ4:    lz4Bombs(t),
		Zstd:   zstdBombs(t),
	}
	for codec, set := range bombs {
		for name, bomb := range set {
			t.Run(codec.String()+"/"+name, func(t *testing.T) {
				require.Less(t, len(bomb), bombLimit*snappyExpansion/16, "the bomb is small")
				// The bomb really is one: the independent decoder
				// gets far past the limit (16 times it is enough to
				// show). Lying headers are rejected
				// by it outright, and it refuses windows over 8 MiB;
				// those frames differ from "RLE 1MiB window" only in
				// their Window_Descriptor byte.
				_, err := indepDecompress(codec, bomb, 16*bombLimit)
				switch name {
				case "raw lying length", "xerial lying length":
					require.Error(t, err)
				case "RLE 1GiB window", "RLE max window":
					twin := bytes.Clone(bomb)
					twin[5] = 10 << 3
					require.Equal(t, set["RLE 1MiB window"], twin)
				default:
					require.ErrorIs(t, err, errIndepTooLarge)
				}
				decode := func() {
					out, err := Decompress(codec, nil, bomb, bombLimit)
					require.ErrorIs(t, err, ErrTooLarge)
					require.Empty(t, out)
				}
				decode() // warm the pools
				used := allocatedDuring(decode)
				bound := 2*bombLimit + bombAllowance(codec, name)
				t.Logf("allocated %d bytes (bound %d)", used, bound)
				require.LessOrEqual(t, used, bound)
			})
		}
	}
}
