package protocol

import (
	"fmt"
	"runtime"
	"testing"

	"github.com/kpgo/kafka/compress"
)

// benchValues are 100-byte JSON-like values that differ from each other
// the way real payloads do, so the codecs see realistic input.
func benchValues(n int) [][]byte {
	vals := make([][]byte, n)
	for i := range vals {
		v := fmt.Appendf(nil, `{"id":%d,"user":"user-%d","event":"page_view","path":"/products/%d","ts":%d}`, i, i*7919%1000, i%50, 1700000000000+i*17)
		for len(v) < 100 {
			v = append(v, ' ')
		}
		vals[i] = v[:100]
	}
	return vals
}

// BenchmarkAppend appends a record with a 100-byte value and a 10-byte
// key to a builder that is reset onto its own buffer every 16 KiB, as the
// producer's accumulator reuses pooled buffers. It must not allocate.
func BenchmarkAppend(b *testing.B) {
	b.SetBytes(int64(len("key-012345") + 100))
	benchAppend(b, nil)
}

// BenchmarkAppendWithHeaders is BenchmarkAppend with two headers.
func BenchmarkAppendWithHeaders(b *testing.B) {
	benchAppend(b, []RecordHeader{{Key: "trace-id", Value: []byte("4bf92f3577b34da6")}, {Key: "source", Value: nil}})
}

func benchAppend(b *testing.B, headers []RecordHeader) {
	vals := benchValues(256)
	key := []byte("key-012345")
	var bb BatchBuilder
	bb.Reset(make([]byte, 0, 32<<10))
	ts := int64(1700000000000)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if bb.Size() >= 16<<10 {
			bb.Reset(bb.Buffer())
		}
		bb.Append(ts+int64(i&63), key, vals[i&255], headers)
	}
}

// BenchmarkAppendSeal fills a 16 KiB batch of those records and seals it,
// per codec, reusing the builder's buffer and the output buffer. It
// reports time and allocations per record; allocs/op is per batch.
func BenchmarkAppendSeal(b *testing.B) {
	vals := benchValues(256)
	key := []byte("key-012345")
	p := BatchParams{ProducerID: 1000, ProducerEpoch: 0, BaseSequence: 0, PartitionLeaderEpoch: -1}
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			comp, err := compress.NewCompressor(codec, compress.DefaultLevel)
			if err != nil {
				b.Fatal(err)
			}
			var bb BatchBuilder
			bb.Reset(make([]byte, 0, 32<<10))
			dst := make([]byte, 0, 32<<10)
			ts := int64(1700000000000)
			fill := func() {
				bb.Reset(bb.Buffer())
				for i := 0; bb.Size() < 16<<10; i++ {
					bb.Append(ts+int64(i&63), key, vals[i&255], nil)
				}
			}
			fill()
			perBatch := bb.NumRecords()
			b.ReportAllocs()
			b.SetBytes(int64(bb.Size()))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			b.ResetTimer()
			for range b.N {
				fill()
				out, err := bb.Seal(p, comp, dst)
				if err != nil {
					b.Fatal(err)
				}
				if codec != compress.None {
					dst = out
				}
			}
			b.StopTimer()
			runtime.ReadMemStats(&after)
			records := float64(b.N) * float64(perBatch)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/records, "ns/record")
			b.ReportMetric(float64(after.Mallocs-before.Mallocs)/records, "allocs/record")
			b.ReportMetric(float64(perBatch), "records/batch")
		})
	}
}

// BenchmarkDecodeRecordBatch decodes a sealed 16 KiB batch per codec.
func BenchmarkDecodeRecordBatch(b *testing.B) {
	vals := benchValues(256)
	for _, codec := range allCodecs {
		b.Run(codec.String(), func(b *testing.B) {
			var bb BatchBuilder
			bb.Reset(nil)
			for i := 0; bb.Size() < 16<<10; i++ {
				bb.Append(1700000000000, nil, vals[i&255], nil)
			}
			comp, err := compress.NewCompressor(codec, compress.DefaultLevel)
			if err != nil {
				b.Fatal(err)
			}
			batch, err := bb.Seal(paramSets[0].p, comp, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetBytes(int64(bb.Size()))
			b.ResetTimer()
			for range b.N {
				if _, _, err := DecodeRecordBatch(batch, 1<<20); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*bb.NumRecords()), "ns/record")
		})
	}
}
