package compress

import (
	"bytes"
	"errors"
	"runtime/metrics"
	"sync"
	"testing"

	"github.com/golang/snappy"
)

// fuzzLimit is the maxSize the fuzz targets decode with.
const fuzzLimit = 200 << 10

// heapAllocated reports how many bytes the heap handed out while f ran,
// from runtime/metrics, which is cheap enough to read on every input.
func heapAllocated(f func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// fuzzAllocBound is what one Decompress may allocate: the output grown by
// doubling up to fuzzLimit, plus codec state (pierrec's two block buffers
// of up to 4 MiB, or a zstd window lowered to fuzzLimit plus two blocks).
// A decoder that trusted a declared size would exceed it by far.
const fuzzAllocBound = 4*fuzzLimit + 12<<20

// fuzzSeeds are the plaintexts whose compressed forms seed every target.
// They are small, as the fuzzer minimizes each new input it finds, which
// takes long on big ones; the zeros span two lz4 and three snappy blocks
// yet compress to little.
func fuzzSeeds() [][]byte {
	z := make([]byte, 70<<10)
	copy(z[40<<10:], "not only zeros")
	return [][]byte{
		{},
		[]byte("a"),
		[]byte("hello, kafka hello, kafka hello, kafka"),
		records(3000),
		z,
		randomBytes(500, 5),
	}
}

// indepMu serializes the independent decoders, which the seed subtests
// and fuzz workers share nothing else with.
var indepMu sync.Mutex

// fuzzDecompress checks one input: no panic, an error of the documented
// kinds with dst's length kept, output within the limit, allocation within
// fuzzAllocBound, and agreement with the independent decoder whenever both
// decode. strict also requires the independent decoder to accept what we
// accept, where the two implement the same format rules.
func fuzzDecompress(t *testing.T, c Codec, data []byte, strict bool) {
	var (
		out []byte
		err error
	)
	dst := []byte("dst")
	used := heapAllocated(func() { out, err = Decompress(c, dst, data, fuzzLimit) })
	if used > fuzzAllocBound {
		t.Fatalf("%v: decoding %d bytes allocated %d bytes, more than %d", c, len(data), used, fuzzAllocBound)
	}
	if !bytes.Equal(out[:min(len(out), 3)], []byte("dst")) {
		t.Fatalf("%v: dst prefix overwritten", c)
	}
	indepMu.Lock()
	want, indepErr := indepDecompress(c, data, fuzzLimit)
	indepMu.Unlock()
	if err != nil {
		if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
			t.Fatalf("%v: error %v is neither ErrCorrupt nor ErrTooLarge", c, err)
		}
		if len(out) != len(dst) {
			t.Fatalf("%v: error %v with %d bytes appended", c, err, len(out)-len(dst))
		}
		if errors.Is(err, ErrTooLarge) && indepErr == nil {
			t.Fatalf("%v: ErrTooLarge, but the independent decoder read %d bytes", c, len(want))
		}
		return
	}
	got := out[len(dst):]
	if len(got) > fuzzLimit {
		t.Fatalf("%v: %d bytes out, limit %d", c, len(got), fuzzLimit)
	}
	switch {
	case indepErr == nil:
		if !bytes.Equal(got, want) {
			t.Fatalf("%v: %d bytes decoded, independent decoder gives %d different ones", c, len(got), len(want))
		}
	case strict:
		t.Fatalf("%v: we decoded %d bytes, the independent decoder failed: %v", c, len(got), indepErr)
	}
}

// addCompressed seeds f with every seed plaintext compressed by c at each
// of its levels in the test matrix, and by the independent compressors.
func addCompressed(f *testing.F, c Codec) {
	for _, src := range fuzzSeeds() {
		for _, tc := range codecs {
			if tc.codec != c {
				continue
			}
			for _, level := range tc.levels {
				f.Add(mustCompress(f, c, level, src))
			}
			for _, b := range indepCompress(f, c, DefaultLevel, src) {
				f.Add(b)
			}
		}
	}
}

func FuzzDecompressGzip(f *testing.F) {
	addCompressed(f, Gzip)
	f.Add(gzipBomb(f)[:2048])
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecompress(t, Gzip, data, true) })
}

// FuzzDecompressSnappyRaw feeds any bytes, so it mostly exercises the raw
// block path, where golang/snappy is the reference and must agree exactly.
func FuzzDecompressSnappyRaw(f *testing.F) {
	for _, src := range fuzzSeeds() {
		f.Add(snappy.Encode(nil, src))
	}
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f, 0x00, 'x'})
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecompress(t, Snappy, data, true) })
}

// FuzzDecompressSnappyXerial puts the xerial header before every input so
// that the fuzzer works on the framing.
func FuzzDecompressSnappyXerial(f *testing.F) {
	for _, src := range fuzzSeeds() {
		f.Add(mustCompress(f, Snappy, DefaultLevel, src)[len(indepXerialMagic):])
		f.Add(indepXerialEncode(src, 1000)[len(indepXerialMagic):])
	}
	bomb := snappyBombs(f)["xerial 16MiB"]
	f.Add(bomb[len(indepXerialMagic) : len(indepXerialMagic)+2048])
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzDecompress(t, Snappy, append(bytes.Clone(indepXerialMagic), data...), true)
	})
}

// FuzzDecompressLZ4 is not strict: we reject legacy frames, which pierrec
// reads.
func FuzzDecompressLZ4(f *testing.F) {
	addCompressed(f, LZ4)
	for _, b := range lz4Bombs(f) {
		f.Add(b[:min(len(b), 2048)])
	}
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecompress(t, LZ4, data, false) })
}

// FuzzDecompressZstd is not strict: the independent decoder refuses
// windows over 8 MiB, which we lower instead.
func FuzzDecompressZstd(f *testing.F) {
	addCompressed(f, Zstd)
	f.Add(zstdRLEFrame(20<<3, 4))
	f.Add(zstdRLEFrame(0xff, 3))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzDecompress(t, Zstd, data, false) })
}
