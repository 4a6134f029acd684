package compress

import (
	"testing"
)

// benchSizes are a typical batch (16 KiB, the producer's default
// batch.size) and a large one (1 MiB).
var benchSizes = []struct {
	name string
	n    int
}{
	{"16KiB", 16 << 10},
	{"1MiB", 1 << 20},
}

// BenchmarkCompress compresses JSON-like records at each codec's default
// level into a reused dst; steady state should not allocate.
func BenchmarkCompress(b *testing.B) {
	for _, tc := range codecs {
		for _, size := range benchSizes {
			b.Run(tc.codec.String()+"/"+size.name, func(b *testing.B) {
				src := records(size.n)
				benchCompress(b, tc.codec, DefaultLevel, src)
			})
		}
	}
}

// benchCompress compresses src with codec at level into a reused dst and
// reports the compression ratio.
func benchCompress(b *testing.B, codec Codec, level int, src []byte) {
	comp, err := NewCompressor(codec, level)
	if err != nil {
		b.Fatal(err)
	}
	dst, err := comp.Compress(nil, src)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	b.ResetTimer()
	for range b.N {
		if dst, err = comp.Compress(dst[:0], src); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(src))/float64(len(dst)), "ratio")
}

// BenchmarkDecompress decompresses the same records into a reused dst.
func BenchmarkDecompress(b *testing.B) {
	for _, tc := range codecs {
		for _, size := range benchSizes {
			b.Run(tc.codec.String()+"/"+size.name, func(b *testing.B) {
				src := records(size.n)
				compressed := mustCompress(b, tc.codec, DefaultLevel, src)
				dst := make([]byte, 0, len(src))
				b.ReportAllocs()
				b.SetBytes(int64(len(src)))
				b.ResetTimer()
				for range b.N {
					var err error
					if dst, err = Decompress(tc.codec, dst[:0], compressed, len(src)); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkCompressLevels compresses 16 KiB at the edges of each KIP-390
// range, to show what a level costs.
func BenchmarkCompressLevels(b *testing.B) {
	src := records(16 << 10)
	for _, tc := range codecs {
		if tc.codec == None || tc.codec == Snappy {
			continue
		}
		for _, level := range tc.levels {
			b.Run(tc.codec.String()+"/"+levelName(level), func(b *testing.B) {
				benchCompress(b, tc.codec, level, src)
			})
		}
	}
}
