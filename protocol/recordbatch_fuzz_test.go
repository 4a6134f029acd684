package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime/metrics"
	"testing"

	"github.com/kpgo/kafka/compress"
)

// allocBytes reports how many bytes the heap handed out while f ran. It
// reads runtime/metrics, which needs no GC, so fuzz iterations stay cheap.
func allocBytes(f func()) uint64 {
	s := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(s)
	before := s[0].Value.Uint64()
	f()
	metrics.Read(s)
	return s[0].Value.Uint64() - before
}

// fuzzMaxDecompressed is the decompression limit the fuzz target passes.
const fuzzMaxDecompressed = 256 << 10

// decodeAllocBound is what decoding data may allocate: the decompressed
// section (grown by doubling) and the records and headers decoded from it
// or from data, plus a fixed allowance for codec state (pierrec's lz4
// reader takes two block buffers of up to 4 MiB each from its pool, and a
// zstd decoder its history). A decoder that sized anything by a count or
// length it read, rather than by the bytes present, would blow far past it.
func decodeAllocBound(data []byte) uint64 {
	return 24<<20 + 64*fuzzMaxDecompressed + 64*uint64(len(data))
}

// fuzzSeedRecords are edgeRecords cut down to small values: the Go fuzzer
// minimizes every new input it finds, which takes long on big ones.
func fuzzSeedRecords() []testRecord {
	recs := edgeRecords()
	for i := range recs {
		if len(recs[i].Value) > 300 {
			recs[i].Value = recs[i].Value[:300]
		}
		if len(recs[i].Key) > 150 {
			recs[i].Key = recs[i].Key[:150]
		}
	}
	return recs
}

func FuzzDecodeRecordBatch(f *testing.F) {
	for _, codec := range allCodecs {
		for _, ps := range paramSets {
			f.Add(buildBatch(f, fuzzSeedRecords(), ps.p, codec))
		}
		f.Add(buildBatch(f, manyRecords()[:20], paramSets[1].p, codec))
	}
	var bb BatchBuilder
	bb.Reset(nil)
	appendAll(&bb, fuzzSeedRecords())
	section := bytes.Clone(bb.Records())
	for _, ic := range indepCompressors {
		f.Add(kmsgBatch(f, fuzzSeedRecords(), paramSets[2].p, 5, ic.codec, ic.fn(f, section)))
	}
	// Two batches back to back, and a lying count.
	two := append(buildBatch(f, fuzzSeedRecords()[:3], paramSets[0].p, compress.None), buildBatch(f, fuzzSeedRecords()[:3], paramSets[0].p, compress.Zstd)...)
	f.Add(two)
	f.Add(wrapRecords([]byte{0x0c, 0, 0, 0, 1, 1, 0}, 1<<30, compress.None))

	f.Fuzz(func(t *testing.T, data []byte) {
		var (
			rb  RecordBatch
			n   int
			err error
		)
		used := allocBytes(func() { rb, n, err = DecodeRecordBatch(data, fuzzMaxDecompressed) })
		if bound := decodeAllocBound(data); used > bound {
			t.Fatalf("decoding %d bytes allocated %d bytes, more than %d", len(data), used, bound)
		}
		if err != nil {
			if !errors.Is(err, ErrCorruptBatch) {
				t.Fatalf("error %v does not match ErrCorruptBatch", err)
			}
			if n != 0 || rb.Records != nil {
				t.Fatalf("error %v with n=%d and %d records", err, n, len(rb.Records))
			}
			return
		}
		if n < RecordBatchHeaderSize || n > len(data) || n != int(rb.BatchLength)+12 {
			t.Fatalf("took %d of %d bytes, batch length %d", n, len(data), rb.BatchLength)
		}
		if got := int32(binary.BigEndian.Uint32(data[57:])); int(got) != len(rb.Records) {
			t.Fatalf("header count %d, decoded %d records", got, len(rb.Records))
		}
		// Everything decoded aliases data or the decompressed section,
		// so a decode that succeeded must also survive being done again
		// to the same result.
		again, _, err := DecodeRecordBatch(data, fuzzMaxDecompressed)
		if err != nil || len(again.Records) != len(rb.Records) {
			t.Fatalf("second decode: %v, %d records", err, len(again.Records))
		}
		_, _ = DecodeRecordBatches(data, fuzzMaxDecompressed)
	})
}
