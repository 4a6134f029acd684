package protocol

import (
	"bytes"
	stdgzip "compress/gzip"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"math"
	"testing"

	"github.com/golang/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/kpgo/kafka/compress"
)

// The tests here check our batches against an implementation we did not
// write: franz-go's kmsg parses the batch framing and the records, and the
// records section is (de)compressed with libraries called directly rather
// than through package compress. The CRC is recomputed with hash/crc32.

var crc32c = crc32.MakeTable(crc32.Castagnoli)

// testRecord is a record as a producer hands it over; comparing []testRecord
// with require.Equal uses reflect.DeepEqual, which tells nil from empty.
type testRecord struct {
	TS      int64
	Key     []byte
	Value   []byte
	Headers []RecordHeader
}

const baseTS = int64(1700000000000)

// edgeRecords covers the encodings that differ in a byte or two: null and
// empty keys and values, null and empty header values, an empty header
// key, a timestamp before the first (negative delta), one whose delta does
// not fit 32 bits, and lengths that need multi-byte varints.
func edgeRecords() []testRecord {
	long := bytes.Repeat([]byte("0123456789abcdef"), 320) // 5120 bytes
	return []testRecord{
		{TS: baseTS, Key: []byte("key-0"), Value: []byte("value-0")},
		{TS: baseTS + 1, Key: nil, Value: []byte("null key")},
		{TS: baseTS - 5, Key: []byte("tombstone"), Value: nil},
		{TS: baseTS + 1<<33, Key: []byte("far"), Value: []byte("delta beyond int32")},
		{TS: baseTS + 10, Key: []byte{}, Value: []byte{}, Headers: []RecordHeader{
			{Key: "trace-id", Value: []byte("abc")},
			{Key: "null-value", Value: nil},
			{Key: "empty-value", Value: []byte{}},
			{Key: "", Value: []byte("empty key")},
		}},
		{TS: baseTS + 20, Key: long[:200], Value: long, Headers: []RecordHeader{{Key: "big", Value: long[:300]}}},
		{TS: baseTS, Key: nil, Value: nil},
	}
}

// manyRecords is about 220 KiB of records section, which crosses the
// 32 KiB snappy block and 64 KiB lz4 block boundaries.
func manyRecords() []testRecord {
	recs := make([]testRecord, 2000)
	for i := range recs {
		recs[i] = testRecord{
			TS:    baseTS + int64(i*3%17),
			Key:   fmt.Appendf(nil, "user-%d", i%97),
			Value: fmt.Appendf(nil, `{"id":%d,"event":"page_view","path":"/products/%d","ok":true,"pad":"%064d"}`, i, i%50, i),
		}
		if i%7 == 0 {
			recs[i].Headers = []RecordHeader{{Key: "n", Value: fmt.Appendf(nil, "%d", i)}}
		}
	}
	return recs
}

var allCodecs = []compress.Codec{compress.None, compress.Gzip, compress.Snappy, compress.LZ4, compress.Zstd}

var paramSets = []struct {
	name string
	p    BatchParams
}{
	{"plain", BatchParams{ProducerID: -1, ProducerEpoch: -1, BaseSequence: -1, PartitionLeaderEpoch: -1}},
	{"idempotent", BatchParams{ProducerID: 1234567890123, ProducerEpoch: 3, BaseSequence: 100, PartitionLeaderEpoch: -1}},
	{"transactional", BatchParams{ProducerID: 42, ProducerEpoch: math.MaxInt16, BaseSequence: math.MaxInt32 - 5, PartitionLeaderEpoch: -1, Transactional: true}},
}

func mustCompressor(t testing.TB, c compress.Codec) compress.Compressor {
	t.Helper()
	comp, err := compress.NewCompressor(c, compress.DefaultLevel)
	require.NoError(t, err)
	return comp
}

func appendAll(bb *BatchBuilder, recs []testRecord) {
	for _, r := range recs {
		bb.Append(r.TS, r.Key, r.Value, r.Headers)
	}
}

func buildBatch(t testing.TB, recs []testRecord, p BatchParams, c compress.Codec) []byte {
	t.Helper()
	var bb BatchBuilder
	bb.Reset(nil)
	appendAll(&bb, recs)
	out, err := bb.Seal(p, mustCompressor(t, c), nil)
	require.NoError(t, err)
	return bytes.Clone(out)
}

func timestamps(recs []testRecord) (first, maxTS int64) {
	first, maxTS = recs[0].TS, recs[0].TS
	for _, r := range recs {
		maxTS = max(maxTS, r.TS)
	}
	return first, maxTS
}

// xerialMagic is snappy-java's stream header: magic, version 1, minimum
// compatible version 1. The test spells it out rather than use package
// compress's copy.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, 0, 0, 0, 1, 0, 0, 0, 1}

// indepDecompress decompresses a records section without package compress.
func indepDecompress(t testing.TB, c compress.Codec, src []byte) []byte {
	t.Helper()
	switch c {
	case compress.None:
		return src
	case compress.Gzip:
		r, err := stdgzip.NewReader(bytes.NewReader(src))
		require.NoError(t, err)
		out, err := io.ReadAll(r)
		require.NoError(t, err)
		return out
	case compress.Snappy:
		return xerialDecode(t, src)
	case compress.LZ4:
		out, err := io.ReadAll(lz4.NewReader(bytes.NewReader(src)))
		require.NoError(t, err)
		return out
	case compress.Zstd:
		d, err := zstd.NewReader(nil)
		require.NoError(t, err)
		defer d.Close()
		out, err := d.DecodeAll(src, nil)
		require.NoError(t, err)
		return out
	}
	t.Fatalf("codec %v", c)
	return nil
}

// xerialDecode parses snappy-java's framing: the 16-byte header, then
// blocks of a big-endian int32 length and a raw snappy block. It insists on
// the framing, since that is what Java consumers of old versions require.
func xerialDecode(t testing.TB, src []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(src), len(xerialMagic), "xerial header")
	require.Equal(t, xerialMagic, src[:len(xerialMagic)], "xerial header")
	src = src[len(xerialMagic):]
	var out []byte
	for len(src) > 0 {
		require.GreaterOrEqual(t, len(src), 4, "xerial block length")
		n := int(binary.BigEndian.Uint32(src))
		src = src[4:]
		require.LessOrEqual(t, n, len(src), "xerial block")
		// snappy-java's SnappyOutputStream never puts more than 32 KiB
		// of input in one block.
		dlen, err := snappy.DecodedLen(src[:n])
		require.NoError(t, err)
		require.LessOrEqual(t, dlen, 32<<10, "xerial block input size")
		block, err := snappy.Decode(nil, src[:n])
		require.NoError(t, err)
		out = append(out, block...)
		src = src[n:]
	}
	return out
}

// xerialEncode writes snappy-java's framing with the given block size.
func xerialEncode(src []byte, blockSize int) []byte {
	out := bytes.Clone(xerialMagic)
	for len(src) > 0 {
		n := min(len(src), blockSize)
		enc := snappy.Encode(nil, src[:n])
		out = binary.BigEndian.AppendUint32(out, uint32(len(enc)))
		out = append(out, enc...)
		src = src[n:]
	}
	return out
}

// kmsgRecords splits an uncompressed records section into records with
// kmsg.Record.ReadFrom. kmsg does not check that a record uses exactly its
// length, so each one is re-encoded and compared with its bytes.
func kmsgRecords(t testing.TB, raw []byte, firstTS int64) []testRecord {
	t.Helper()
	var out []testRecord
	for i := 0; len(raw) > 0; i++ {
		length, n := binary.Varint(raw)
		require.Positive(t, n, "record %d length", i)
		require.LessOrEqual(t, int(length)+n, len(raw), "record %d length", i)
		enc := raw[:n+int(length)]
		raw = raw[len(enc):]
		var rec kmsg.Record
		require.NoError(t, rec.ReadFrom(enc), "record %d", i)
		require.Equal(t, enc, rec.AppendTo(nil), "record %d does not use exactly its length", i)
		require.Equal(t, int8(0), rec.Attributes, "record %d attributes", i)
		require.Equal(t, int32(i), rec.OffsetDelta, "record %d offset delta", i)
		tr := testRecord{TS: firstTS + rec.TimestampDelta64, Key: rec.Key, Value: rec.Value}
		for _, h := range rec.Headers {
			tr.Headers = append(tr.Headers, RecordHeader{Key: h.Key, Value: h.Value})
		}
		out = append(out, tr)
	}
	return out
}

// ourRecords converts decoded records back to what was appended.
func ourRecords(t testing.TB, rb RecordBatch) []testRecord {
	t.Helper()
	var out []testRecord
	for i, r := range rb.Records {
		require.Equal(t, int32(i), r.OffsetDelta, "record %d offset delta", i)
		require.Equal(t, int8(0), r.Attributes, "record %d attributes", i)
		out = append(out, testRecord{TS: rb.BaseTimestamp + r.TimestampDelta, Key: r.Key, Value: r.Value, Headers: r.Headers})
	}
	return out
}

func TestBatchDecodedByKmsg(t *testing.T) {
	sets := map[string][]testRecord{
		"edge": edgeRecords(),
		"many": manyRecords(),
		"one":  {{TS: baseTS, Key: []byte("k"), Value: []byte("v")}},
		// The first record is the latest: maxTimestamp is not simply
		// the last or a later one.
		"descending": {{TS: baseTS + 100, Value: []byte("a")}, {TS: baseTS + 50, Value: []byte("b")}, {TS: baseTS, Value: []byte("c")}},
	}
	// One builder and one dst serve every batch, as in the producer, so
	// stale bytes from a previous batch would show.
	var bb BatchBuilder
	var dst []byte
	for setName, recs := range sets {
		for _, ps := range paramSets {
			for _, codec := range allCodecs {
				t.Run(fmt.Sprintf("%s/%s/%v", setName, ps.name, codec), func(t *testing.T) {
					bb.Reset(bb.Buffer())
					appendAll(&bb, recs)
					require.Equal(t, len(recs), bb.NumRecords())
					first, maxTS := timestamps(recs)
					require.Equal(t, first, bb.BaseTimestamp())
					require.Equal(t, maxTS, bb.MaxTimestamp())
					batch, err := bb.Seal(ps.p, mustCompressor(t, codec), dst)
					require.NoError(t, err)
					if codec != compress.None {
						dst = batch
						// Only the records section is compressed;
						// the header stays readable (kmsg reads it).
						require.NotEqual(t, bb.Records(), batch[RecordBatchHeaderSize:])
					} else {
						require.Equal(t, bb.Size(), len(batch))
					}

					var kb kmsg.RecordBatch
					require.NoError(t, kb.ReadFrom(batch))
					require.Equal(t, int64(0), kb.FirstOffset)
					require.Equal(t, len(batch)-12, int(kb.Length))
					require.Equal(t, int32(-1), kb.PartitionLeaderEpoch)
					require.Equal(t, int8(2), kb.Magic)
					require.Equal(t, crc32.Checksum(batch[21:], crc32c), uint32(kb.CRC), "CRC-32C over attributes..end")
					wantAttrs := int16(codec)
					if ps.p.Transactional {
						wantAttrs |= 0x10
					}
					require.Equal(t, wantAttrs, kb.Attributes)
					require.Equal(t, int32(len(recs)-1), kb.LastOffsetDelta)
					require.Equal(t, first, kb.FirstTimestamp)
					require.Equal(t, maxTS, kb.MaxTimestamp)
					require.Equal(t, ps.p.ProducerID, kb.ProducerID)
					require.Equal(t, ps.p.ProducerEpoch, kb.ProducerEpoch)
					require.Equal(t, ps.p.BaseSequence, kb.FirstSequence)
					require.Equal(t, int32(len(recs)), kb.NumRecords)

					raw := indepDecompress(t, codec, kb.Records)
					require.Equal(t, bb.Records(), raw, "decompressed section is what was appended")
					require.Equal(t, recs, kmsgRecords(t, raw, kb.FirstTimestamp))

					// Our decoder agrees, and sealing again gives the
					// same bytes.
					rb, n, err := DecodeRecordBatch(batch, 1<<20)
					require.NoError(t, err)
					require.Equal(t, len(batch), n)
					require.Equal(t, codec, rb.Codec())
					require.Equal(t, ps.p.Transactional, rb.Transactional())
					require.Equal(t, recs, ourRecords(t, rb))
					want := bytes.Clone(batch)
					again, err := bb.Seal(ps.p, mustCompressor(t, codec), nil)
					require.NoError(t, err)
					require.Equal(t, want, again)
				})
			}
		}
	}
}

func TestSetProducerStateKeepsBatchValid(t *testing.T) {
	for _, codec := range allCodecs {
		batch := buildBatch(t, edgeRecords(), paramSets[1].p, codec)
		records := bytes.Clone(batch[RecordBatchHeaderSize:])
		SetProducerState(batch, 99, 4, 12345)
		var kb kmsg.RecordBatch
		require.NoError(t, kb.ReadFrom(batch))
		require.Equal(t, crc32.Checksum(batch[21:], crc32c), uint32(kb.CRC))
		require.Equal(t, int64(99), kb.ProducerID)
		require.Equal(t, int16(4), kb.ProducerEpoch)
		require.Equal(t, int32(12345), kb.FirstSequence)
		require.Equal(t, records, batch[RecordBatchHeaderSize:], "records untouched")
		_, _, err := DecodeRecordBatch(batch, 1<<20)
		require.NoError(t, err)
	}
}

// kmsgSection encodes records with kmsg.Record.AppendTo. Length is the
// size of what follows it, found by encoding once with a zero length
// (whose varint is one byte).
func kmsgSection(recs []testRecord) []byte {
	var out []byte
	for i, r := range recs {
		rec := kmsg.Record{TimestampDelta64: r.TS - recs[0].TS, OffsetDelta: int32(i), Key: r.Key, Value: r.Value}
		for _, h := range r.Headers {
			rec.Headers = append(rec.Headers, kmsg.Header{Key: h.Key, Value: h.Value})
		}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		out = rec.AppendTo(out)
	}
	return out
}

// indepCompressors compress a records section without package compress,
// in the forms other clients write: several framings for snappy, and lz4
// and zstd with their libraries' default options (lz4 4 MiB blocks with a
// content checksum, zstd with content size and checksum).
var indepCompressors = []struct {
	name  string
	codec compress.Codec
	fn    func(t testing.TB, src []byte) []byte
}{
	{"none", compress.None, func(_ testing.TB, src []byte) []byte { return src }},
	{"gzip", compress.Gzip, func(t testing.TB, src []byte) []byte {
		var buf bytes.Buffer
		w, err := stdgzip.NewWriterLevel(&buf, stdgzip.BestCompression)
		require.NoError(t, err)
		_, err = w.Write(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		return buf.Bytes()
	}},
	{"snappy-xerial", compress.Snappy, func(_ testing.TB, src []byte) []byte { return xerialEncode(src, 32<<10) }},
	{"snappy-xerial-small-blocks", compress.Snappy, func(_ testing.TB, src []byte) []byte { return xerialEncode(src, 1000) }},
	{"snappy-raw", compress.Snappy, func(_ testing.TB, src []byte) []byte { return snappy.Encode(nil, src) }},
	{"lz4", compress.LZ4, func(t testing.TB, src []byte) []byte {
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		_, err := w.Write(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		return buf.Bytes()
	}},
	{"lz4-blockchecksum", compress.LZ4, func(t testing.TB, src []byte) []byte {
		var buf bytes.Buffer
		w := lz4.NewWriter(&buf)
		require.NoError(t, w.Apply(lz4.BlockSizeOption(lz4.Block64Kb), lz4.BlockChecksumOption(true)))
		_, err := w.Write(src)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		return buf.Bytes()
	}},
	{"zstd", compress.Zstd, func(t testing.TB, src []byte) []byte {
		e, err := zstd.NewWriter(nil)
		require.NoError(t, err)
		defer e.Close()
		return e.EncodeAll(src, nil)
	}},
	{"zstd-stream", compress.Zstd, func(t testing.TB, src []byte) []byte {
		// A streaming encoder writes no content size, so the decoder
		// cannot size its output from the header.
		var buf bytes.Buffer
		e, err := zstd.NewWriter(&buf, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
		require.NoError(t, err)
		_, err = e.Write(src)
		require.NoError(t, err)
		require.NoError(t, e.Close())
		return buf.Bytes()
	}},
}

// kmsgBatch builds a batch with kmsg.RecordBatch.AppendTo; the CRC is
// filled in afterwards over attributes..end.
func kmsgBatch(t testing.TB, recs []testRecord, p BatchParams, baseOffset int64, codec compress.Codec, compressed []byte) []byte {
	t.Helper()
	first, maxTS := timestamps(recs)
	attrs := int16(codec)
	if p.Transactional {
		attrs |= 0x10
	}
	kb := kmsg.RecordBatch{
		FirstOffset:          baseOffset,
		Length:               int32(49 + len(compressed)),
		PartitionLeaderEpoch: p.PartitionLeaderEpoch,
		Magic:                2,
		Attributes:           attrs,
		LastOffsetDelta:      int32(len(recs) - 1),
		FirstTimestamp:       first,
		MaxTimestamp:         maxTS,
		ProducerID:           p.ProducerID,
		ProducerEpoch:        p.ProducerEpoch,
		FirstSequence:        p.BaseSequence,
		NumRecords:           int32(len(recs)),
		Records:              compressed,
	}
	out := kb.AppendTo(nil)
	binary.BigEndian.PutUint32(out[17:], crc32.Checksum(out[21:], crc32c))
	return out
}

func TestKmsgBatchDecodedByUs(t *testing.T) {
	sets := map[string][]testRecord{"edge": edgeRecords(), "many": manyRecords()}
	p := BatchParams{ProducerID: 7, ProducerEpoch: 2, BaseSequence: 31, PartitionLeaderEpoch: 9, Transactional: true}
	for setName, recs := range sets {
		section := kmsgSection(recs)
		for _, ic := range indepCompressors {
			t.Run(setName+"/"+ic.name, func(t *testing.T) {
				batch := kmsgBatch(t, recs, p, 1000, ic.codec, ic.fn(t, section))
				rb, n, err := DecodeRecordBatch(batch, len(section))
				require.NoError(t, err)
				require.Equal(t, len(batch), n)
				require.Equal(t, int64(1000), rb.BaseOffset)
				require.Equal(t, int32(len(batch)-12), rb.BatchLength)
				require.Equal(t, int32(9), rb.PartitionLeaderEpoch)
				require.Equal(t, int8(2), rb.Magic)
				require.Equal(t, binary.BigEndian.Uint32(batch[17:]), rb.CRC)
				require.Equal(t, ic.codec, rb.Codec())
				require.True(t, rb.Transactional())
				require.False(t, rb.Control())
				require.False(t, rb.LogAppendTime())
				require.Equal(t, int32(len(recs)-1), rb.LastOffsetDelta)
				require.Equal(t, recs[0].TS, rb.BaseTimestamp)
				require.Equal(t, p.ProducerID, rb.ProducerID)
				require.Equal(t, p.ProducerEpoch, rb.ProducerEpoch)
				require.Equal(t, p.BaseSequence, rb.BaseSequence)
				require.Equal(t, recs, ourRecords(t, rb))

				// The limit applies to the decompressed section.
				if ic.codec != compress.None {
					_, _, err = DecodeRecordBatch(batch, len(section)-1)
					require.ErrorIs(t, err, ErrCorruptBatch)
					require.ErrorIs(t, err, compress.ErrTooLarge)
				}
			})
		}
	}
}

func TestDecodeRecordBatchesConcatenated(t *testing.T) {
	// A Produce request's records field, or a fetch response's, holds
	// batches back to back; mix ours and kmsg's.
	recs := edgeRecords()
	var all []byte
	for i, codec := range allCodecs {
		all = append(all, buildBatch(t, recs, paramSets[i%len(paramSets)].p, codec)...)
	}
	for i, ic := range indepCompressors {
		all = append(all, kmsgBatch(t, recs, paramSets[0].p, int64(i*100), ic.codec, ic.fn(t, kmsgSection(recs)))...)
	}
	rbs, err := DecodeRecordBatches(all, 1<<20)
	require.NoError(t, err)
	require.Len(t, rbs, len(allCodecs)+len(indepCompressors))
	for _, rb := range rbs {
		require.Equal(t, recs, ourRecords(t, rb))
	}
	// A partial batch at the end is an error, with the whole ones kept.
	rbs, err = DecodeRecordBatches(all[:len(all)-1], 1<<20)
	require.ErrorIs(t, err, ErrCorruptBatch)
	require.Len(t, rbs, len(allCodecs)+len(indepCompressors)-1)
}

// TestGoldenBatch pins the exact bytes of a small uncompressed batch. The
// literal is written out by hand from the RecordBatch v2 layout (KIP-98,
// Kafka's "Message format" docs); only the CRC was computed, and the test
// checks it against hash/crc32 as well.
func TestGoldenBatch(t *testing.T) {
	golden := []byte{
		// baseOffset int64: 0; the broker assigns offsets.
		0, 0, 0, 0, 0, 0, 0, 0,
		// batchLength int32: bytes after this field, 87 - 12 = 75.
		0, 0, 0, 0x4b,
		// partitionLeaderEpoch int32: -1 from producers.
		0xff, 0xff, 0xff, 0xff,
		// magic int8: 2.
		0x02,
		// crc uint32: CRC-32C (Castagnoli) of attributes..end.
		0x75, 0x05, 0xc8, 0xe1,
		// attributes int16: bit 4 transactional; codec 0 (bits 0-2),
		// CreateTime (bit 3 clear), not control (bit 5 clear).
		0x00, 0x10,
		// lastOffsetDelta int32: 2, for three records.
		0, 0, 0, 0x02,
		// baseTimestamp int64: the first record's, 1700000000000 =
		// 0x18bcfe56800.
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
		// maxTimestamp int64: the largest, the second record's +2.
		0, 0, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x02,
		// producerId int64: 5.
		0, 0, 0, 0, 0, 0, 0, 0x05,
		// producerEpoch int16: 1.
		0x00, 0x01,
		// baseSequence int32: 7.
		0, 0, 0, 0x07,
		// records count int32: 3.
		0, 0, 0, 0x03,

		// Records. Every varint below is zig-zag: n encodes as 2n,
		// -n as 2n-1, so -1 (null) is 0x01.
		//
		// Record 0: length 8, attributes 0, timestampDelta 0,
		// offsetDelta 0, key "k" (length 1), value "v", 0 headers.
		0x10, 0x00, 0x00, 0x00, 0x02, 'k', 0x02, 'v', 0x00,
		// Record 1: length 9, attributes 0, timestampDelta +2,
		// offsetDelta 1, key null, value empty (length 0), 1 header:
		// key "h", value null.
		0x12, 0x00, 0x04, 0x02, 0x01, 0x00, 0x02, 0x02, 'h', 0x01,
		// Record 2: length 6, attributes 0, timestampDelta -1,
		// offsetDelta 2, key empty, value null, 0 headers.
		0x0c, 0x00, 0x01, 0x04, 0x00, 0x01, 0x00,
	}
	require.Len(t, golden, 87)
	require.Equal(t, crc32.Checksum(golden[21:], crc32c), binary.BigEndian.Uint32(golden[17:]))

	var bb BatchBuilder
	bb.Reset(nil)
	bb.Append(baseTS, []byte("k"), []byte("v"), nil)
	bb.Append(baseTS+2, nil, []byte{}, []RecordHeader{{Key: "h", Value: nil}})
	bb.Append(baseTS-1, []byte{}, nil, nil)
	require.Equal(t, RecordSize(0, 0, []byte("k"), []byte("v"), nil), 9)
	require.Equal(t, RecordSize(2, 1, nil, []byte{}, []RecordHeader{{Key: "h"}}), 10)
	require.Equal(t, RecordSize(-1, 2, []byte{}, nil, nil), 7)
	require.Equal(t, 87, bb.Size())
	p := BatchParams{ProducerID: 5, ProducerEpoch: 1, BaseSequence: 7, PartitionLeaderEpoch: -1, Transactional: true}
	got, err := bb.Seal(p, nil, nil)
	require.NoError(t, err)
	require.Equal(t, golden, got)
	got, err = bb.Seal(p, mustCompressor(t, compress.None), nil)
	require.NoError(t, err)
	require.Equal(t, golden, got)

	rb, n, err := DecodeRecordBatch(golden, 1)
	require.NoError(t, err)
	require.Equal(t, 87, n)
	require.Equal(t, []testRecord{
		{TS: baseTS, Key: []byte("k"), Value: []byte("v")},
		{TS: baseTS + 2, Key: nil, Value: []byte{}, Headers: []RecordHeader{{Key: "h", Value: nil}}},
		{TS: baseTS - 1, Key: []byte{}, Value: nil},
	}, ourRecords(t, rb))
}

func TestSealEmptyBatch(t *testing.T) {
	var bb BatchBuilder
	bb.Reset(nil)
	_, err := bb.Seal(paramSets[0].p, nil, nil)
	require.Error(t, err)
	require.Equal(t, RecordBatchHeaderSize, bb.Size())
	require.Nil(t, bb.Records())
}

// fixCRC recomputes a batch's CRC after a test edits it, so that the edit
// reaches the checks behind the CRC.
func fixCRC(b []byte) []byte {
	binary.BigEndian.PutUint32(b[17:], crc32.Checksum(b[21:], crc32c))
	return b
}

// wrapRecords puts a records section, as is, into a batch claiming count
// records, with a valid CRC.
func wrapRecords(section []byte, count int32, codec compress.Codec) []byte {
	b := make([]byte, RecordBatchHeaderSize, RecordBatchHeaderSize+len(section))
	binary.BigEndian.PutUint32(b[8:], uint32(RecordBatchHeaderSize-12+len(section)))
	b[16] = 2
	binary.BigEndian.PutUint16(b[21:], uint16(codec))
	binary.BigEndian.PutUint32(b[57:], uint32(count))
	return fixCRC(append(b, section...))
}

func requireCorrupt(t *testing.T, b []byte, msgAndArgs ...any) {
	t.Helper()
	rb, n, err := DecodeRecordBatch(b, 1<<20)
	require.ErrorIs(t, err, ErrCorruptBatch, msgAndArgs...)
	require.Zero(t, n, msgAndArgs...)
	require.Nil(t, rb.Records, msgAndArgs...)
}

func TestCorruptCRC(t *testing.T) {
	for _, codec := range allCodecs {
		good := buildBatch(t, edgeRecords(), paramSets[1].p, codec)
		b := bytes.Clone(good)
		b[17] ^= 0x01
		requireCorrupt(t, b, "%v: CRC bit flipped", codec)
		// CRC-32C catches every single-byte error in what it covers.
		for i := 21; i < len(good); i++ {
			b := bytes.Clone(good)
			b[i] ^= 0x5a
			requireCorrupt(t, b, "%v: byte %d changed", codec, i)
		}
		// A CRC-32 over the same bytes (the v0/v1 one) is not accepted.
		b = bytes.Clone(good)
		binary.BigEndian.PutUint32(b[17:], crc32.ChecksumIEEE(b[21:]))
		requireCorrupt(t, b, "%v: IEEE CRC", codec)
	}
}

func TestCorruptTruncated(t *testing.T) {
	for _, codec := range allCodecs {
		good := buildBatch(t, edgeRecords(), paramSets[2].p, codec)
		for i := range len(good) {
			requireCorrupt(t, good[:i], "%v: truncated to %d", codec, i)
			_, err := DecodeRecordBatches(good[:i], 1<<20)
			if i == 0 {
				require.NoError(t, err, "no bytes are no batches")
			} else {
				require.ErrorIs(t, err, ErrCorruptBatch)
			}
		}
		// Truncated with the header made consistent again: the break is
		// then found by the decompressor or the record decoder.
		for i := range len(good) - RecordBatchHeaderSize {
			b := bytes.Clone(good[:RecordBatchHeaderSize+i])
			binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
			requireCorrupt(t, fixCRC(b), "%v: records section truncated to %d", codec, i)
		}
	}
	// Truncated uncompressed records at every offset, straight into
	// DecodeRecords.
	var bb BatchBuilder
	bb.Reset(nil)
	appendAll(&bb, edgeRecords())
	section := bb.Records()
	for i := range len(section) {
		_, err := DecodeRecords(section[:i], int32(bb.NumRecords()))
		require.ErrorIs(t, err, ErrCorruptBatch, "truncated to %d", i)
	}
}

func TestCorruptLengths(t *testing.T) {
	good := buildBatch(t, edgeRecords(), paramSets[0].p, compress.None)
	count := int32(len(edgeRecords()))
	for _, l := range []int32{-1, math.MinInt32, 0, 48, int32(len(good) - 12 + 1), math.MaxInt32} {
		b := bytes.Clone(good)
		binary.BigEndian.PutUint32(b[8:], uint32(l))
		requireCorrupt(t, b, "batch length %d", l)
	}
	// A shorter batch length with a matching CRC cuts the last record.
	b := bytes.Clone(good[:len(good)-1])
	binary.BigEndian.PutUint32(b[8:], uint32(len(b)-12))
	requireCorrupt(t, fixCRC(b), "short batch length")

	for _, c := range []int32{-1, 0, count - 1, count + 1, math.MaxInt32, math.MinInt32} {
		b := bytes.Clone(good)
		binary.BigEndian.PutUint32(b[57:], uint32(c))
		requireCorrupt(t, fixCRC(b), "record count %d of %d", c, count)
	}
	for _, magic := range []byte{0, 1, 3, 0xff} {
		b := bytes.Clone(good)
		b[16] = magic
		requireCorrupt(t, b, "magic %d", magic)
	}
	for _, codec := range []int16{1, 2, 3, 4, 5, 6, 7} {
		// Plain records labelled with a codec, and unknown codecs.
		b := bytes.Clone(good)
		binary.BigEndian.PutUint16(b[21:], uint16(codec))
		requireCorrupt(t, fixCRC(b), "codec %d over plain records", codec)
	}

	// Records sections that lie about their own lengths.
	cases := map[string][]byte{
		"record length beyond section":  {0x7e, 0, 0, 0, 1, 1, 0},
		"record length negative":        {0x01, 0, 0, 0, 1, 1, 0},
		"record length too small":       {0x08, 0, 0, 0, 1, 1, 0},
		"record length leaves trailing": {0x10, 0, 0, 0, 1, 1, 0, 0, 0},
		"key length beyond record":      {0x0c, 0, 0, 0, 0x7e, 1, 0},
		"key length negative -2":        {0x0c, 0, 0, 0, 0x03, 1, 0},
		"value length beyond record":    {0x0c, 0, 0, 0, 1, 0x7e, 0},
		"header count huge":             {0x14, 0, 0, 0, 1, 1, 0xfe, 0xff, 0xff, 0xff, 0x0f},
		"header count negative":         {0x0c, 0, 0, 0, 1, 1, 0x01},
		"header count beyond record":    {0x0e, 0, 0, 0, 1, 1, 0x04, 0x00},
		"header key null":               {0x10, 0, 0, 0, 1, 1, 0x02, 0x01, 0x01},
		"header key beyond record":      {0x10, 0, 0, 0, 1, 1, 0x02, 0x7e, 0x01},
		"varint overflow":               {0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0},
		"varlong overflow":              {0x18, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f, 0},
		"bytes after last record":       {0x0c, 0, 0, 0, 1, 1, 0, 0},
	}
	for name, section := range cases {
		requireCorrupt(t, wrapRecords(section, 1, compress.None), name)
		_, err := DecodeRecords(section, 1)
		require.ErrorIs(t, err, ErrCorruptBatch, name)
	}
	// The smallest record is fine, so the cases above fail for the reason
	// their names give.
	rb, _, err := DecodeRecordBatch(wrapRecords([]byte{0x0c, 0, 0, 0, 1, 1, 0}, 1, compress.None), 1)
	require.NoError(t, err)
	require.Equal(t, []Record{{}}, rb.Records)

	// Compressed sections that do not decompress.
	for _, codec := range allCodecs[1:] {
		requireCorrupt(t, wrapRecords([]byte("definitely not compressed"), 1, codec), "%v garbage", codec)
		requireCorrupt(t, wrapRecords(nil, 0, codec), "%v empty", codec)
	}
}

func TestDecodeRecordsCountBeforeAllocating(t *testing.T) {
	// A count far beyond what the bytes can hold fails before anything
	// is allocated for it.
	section := []byte{0x0c, 0, 0, 0, 1, 1, 0}
	allocs := testing.AllocsPerRun(10, func() {
		_, err := DecodeRecords(section, math.MaxInt32)
		if err == nil {
			t.Fatal("no error")
		}
	})
	require.LessOrEqual(t, allocs, 8.0)
	n := allocBytes(func() { _, _ = DecodeRecords(section, math.MaxInt32) })
	require.Less(t, n, uint64(4096))
}
