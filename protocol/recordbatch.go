package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"

	"github.com/kpgo/kafka/compress"
)

// RecordBatchHeaderSize is the size of a v2 RecordBatch header, from
// baseOffset through the record count.
const RecordBatchHeaderSize = 61

// Byte offsets of the RecordBatch v2 header fields (KIP-98).
const (
	offBaseOffset           = 0
	offBatchLength          = 8
	offPartitionLeaderEpoch = 12
	offMagic                = 16
	offCRC                  = 17
	offAttributes           = 21
	offLastOffsetDelta      = 23
	offBaseTimestamp        = 27
	offMaxTimestamp         = 35
	offProducerID           = 43
	offProducerEpoch        = 51
	offBaseSequence         = 53
	offRecordCount          = 57
)

// Attribute bits of a RecordBatch.
const (
	attrCodecMask     = 0x07
	attrLogAppendTime = 0x08
	attrTransactional = 0x10
	attrControl       = 0x20
)

// ErrCorruptBatch reports a record batch that cannot be decoded: a bad
// length, magic, CRC, record count or record.
var ErrCorruptBatch = errors.New("protocol: corrupt record batch")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// RecordHeader is one record header: a string key and a nullable value.
type RecordHeader struct {
	Key   string
	Value []byte
}

// BatchParams are the header fields of a batch that are known only when it
// is sealed.
type BatchParams struct {
	// ProducerID, ProducerEpoch and BaseSequence are -1 when the producer
	// is not idempotent.
	ProducerID    int64
	ProducerEpoch int16
	BaseSequence  int32
	// PartitionLeaderEpoch is set by the broker; producers send -1.
	PartitionLeaderEpoch int32
	Transactional        bool
	LogAppendTime        bool
}

// BatchBuilder appends records one at a time into a reusable buffer that
// already holds room for the batch header, so that sealing an uncompressed
// batch writes the header in place and copies nothing. The zero value is
// ready after Reset.
type BatchBuilder struct {
	buf    []byte
	n      int32
	baseTS int64
	maxTS  int64
}

// Reset empties the builder and makes it append into buf's storage (buf's
// length is ignored). A nil buf allocates on the first Append.
func (bb *BatchBuilder) Reset(buf []byte) {
	if buf != nil {
		buf = buf[:0]
	}
	bb.buf = buf
	bb.n = 0
	bb.baseTS, bb.maxTS = 0, 0
}

// Buffer returns the storage the builder appends into, for returning it to
// a pool after the batch is done; nil if it has none.
func (bb *BatchBuilder) Buffer() []byte { return bb.buf }

// NumRecords returns how many records have been appended.
func (bb *BatchBuilder) NumRecords() int { return int(bb.n) }

// Size returns the uncompressed size of the batch so far, header included.
func (bb *BatchBuilder) Size() int {
	if len(bb.buf) == 0 {
		return RecordBatchHeaderSize
	}
	return len(bb.buf)
}

// BaseTimestamp returns the first record's timestamp in milliseconds.
func (bb *BatchBuilder) BaseTimestamp() int64 { return bb.baseTS }

// MaxTimestamp returns the largest record timestamp in milliseconds.
func (bb *BatchBuilder) MaxTimestamp() int64 { return bb.maxTS }

// Records returns the encoded records section so far, not a copy.
func (bb *BatchBuilder) Records() []byte {
	if len(bb.buf) < RecordBatchHeaderSize {
		return nil
	}
	return bb.buf[RecordBatchHeaderSize:]
}

// RecordSize returns the encoded size of a record, its length prefix
// included, at the given timestamp and offset deltas.
func RecordSize(tsDelta int64, offsetDelta int32, key, value []byte, headers []RecordHeader) int {
	body := recordBodySize(tsDelta, offsetDelta, key, value, headers)
	return VarintLen(int32(body)) + body
}

func recordBodySize(tsDelta int64, offsetDelta int32, key, value []byte, headers []RecordHeader) int {
	n := 1 + VarlongLen(tsDelta) + VarintLen(offsetDelta)
	n += nullableVarBytesSize(key) + nullableVarBytesSize(value)
	n += VarintLen(int32(len(headers)))
	for i := range headers {
		n += VarintLen(int32(len(headers[i].Key))) + len(headers[i].Key)
		n += nullableVarBytesSize(headers[i].Value)
	}
	return n
}

func nullableVarBytesSize(b []byte) int {
	if b == nil {
		return 1
	}
	return VarintLen(int32(len(b))) + len(b)
}

func appendVarBytes(b, v []byte) []byte {
	if v == nil {
		return AppendVarint(b, -1)
	}
	b = AppendVarint(b, int32(len(v)))
	return append(b, v...)
}

// Append adds a record with timestamp ts (milliseconds since the epoch). A
// nil key or value is encoded as null (-1); an empty one as zero bytes.
func (bb *BatchBuilder) Append(ts int64, key, value []byte, headers []RecordHeader) {
	if len(bb.buf) < RecordBatchHeaderSize {
		bb.buf = append(bb.buf[:0], make([]byte, RecordBatchHeaderSize)...)
	}
	if bb.n == 0 {
		bb.baseTS, bb.maxTS = ts, ts
	} else if ts > bb.maxTS {
		bb.maxTS = ts
	}
	tsDelta := ts - bb.baseTS
	body := recordBodySize(tsDelta, bb.n, key, value, headers)
	b := AppendVarint(bb.buf, int32(body))
	b = append(b, 0) // record attributes are unused
	b = AppendVarlong(b, tsDelta)
	b = AppendVarint(b, bb.n)
	b = appendVarBytes(b, key)
	b = appendVarBytes(b, value)
	b = AppendVarint(b, int32(len(headers)))
	for i := range headers {
		b = AppendVarint(b, int32(len(headers[i].Key)))
		b = append(b, headers[i].Key...)
		b = appendVarBytes(b, headers[i].Value)
	}
	bb.buf = b
	bb.n++
}

// Seal returns the finished wire batch. Without a compressor (or with the
// None codec) the header is written in place and the result aliases the
// builder's buffer. With one, the header and the compressed records
// section are appended to dst[:0] and the result aliases dst's storage;
// only the records section is compressed, as the format requires. The
// builder keeps its records, so Seal may be called again (for example
// after a batch is split).
func (bb *BatchBuilder) Seal(p BatchParams, comp compress.Compressor, dst []byte) ([]byte, error) {
	if bb.n == 0 {
		return nil, errors.New("protocol: sealing an empty record batch")
	}
	codec := compress.None
	if comp != nil {
		codec = comp.Codec()
	}
	var out []byte
	if codec == compress.None {
		out = bb.buf
	} else {
		out = append(dst[:0], bb.buf[:RecordBatchHeaderSize]...)
		var err error
		out, err = comp.Compress(out, bb.buf[RecordBatchHeaderSize:])
		if err != nil {
			return nil, fmt.Errorf("protocol: compressing record batch with %v: %w", codec, err)
		}
	}
	attrs := int16(codec) & attrCodecMask
	if p.LogAppendTime {
		attrs |= attrLogAppendTime
	}
	if p.Transactional {
		attrs |= attrTransactional
	}
	h := out[:RecordBatchHeaderSize]
	be := binary.BigEndian
	be.PutUint64(h[offBaseOffset:], 0)
	be.PutUint32(h[offBatchLength:], uint32(len(out)-12))
	be.PutUint32(h[offPartitionLeaderEpoch:], uint32(p.PartitionLeaderEpoch))
	h[offMagic] = 2
	be.PutUint16(h[offAttributes:], uint16(attrs))
	be.PutUint32(h[offLastOffsetDelta:], uint32(bb.n-1))
	be.PutUint64(h[offBaseTimestamp:], uint64(bb.baseTS))
	be.PutUint64(h[offMaxTimestamp:], uint64(bb.maxTS))
	be.PutUint64(h[offProducerID:], uint64(p.ProducerID))
	be.PutUint16(h[offProducerEpoch:], uint16(p.ProducerEpoch))
	be.PutUint32(h[offBaseSequence:], uint32(p.BaseSequence))
	be.PutUint32(h[offRecordCount:], uint32(bb.n))
	be.PutUint32(h[offCRC:], crc32.Checksum(out[offAttributes:], castagnoli))
	return out, nil
}

// SetProducerState rewrites the producer id, epoch and base sequence of a
// sealed batch and recomputes its CRC. A retried batch keeps its bytes
// but may need a new epoch and sequence after KIP-360 recovery.
func SetProducerState(batch []byte, producerID int64, epoch int16, baseSequence int32) {
	if len(batch) < RecordBatchHeaderSize {
		return
	}
	be := binary.BigEndian
	be.PutUint64(batch[offProducerID:], uint64(producerID))
	be.PutUint16(batch[offProducerEpoch:], uint16(epoch))
	be.PutUint32(batch[offBaseSequence:], uint32(baseSequence))
	be.PutUint32(batch[offCRC:], crc32.Checksum(batch[offAttributes:], castagnoli))
}

// RecordBatch is a decoded v2 record batch.
type RecordBatch struct {
	BaseOffset           int64
	BatchLength          int32
	PartitionLeaderEpoch int32
	Magic                int8
	CRC                  uint32
	Attributes           int16
	LastOffsetDelta      int32
	BaseTimestamp        int64
	MaxTimestamp         int64
	ProducerID           int64
	ProducerEpoch        int16
	BaseSequence         int32
	Records              []Record
}

// Codec returns the batch's compression codec.
func (rb *RecordBatch) Codec() compress.Codec { return compress.Codec(rb.Attributes & attrCodecMask) }

// LogAppendTime reports whether the timestamps are the broker's append time.
func (rb *RecordBatch) LogAppendTime() bool { return rb.Attributes&attrLogAppendTime != 0 }

// Transactional reports whether the batch is part of a transaction.
func (rb *RecordBatch) Transactional() bool { return rb.Attributes&attrTransactional != 0 }

// Control reports whether the batch holds control records.
func (rb *RecordBatch) Control() bool { return rb.Attributes&attrControl != 0 }

// Record is a decoded record. Key, Value and header values alias the
// decoded (or decompressed) bytes.
type Record struct {
	Attributes     int8
	TimestampDelta int64
	OffsetDelta    int32
	Key            []byte
	Value          []byte
	Headers        []RecordHeader
}

// minRecordSize is the smallest encoded record: length, attributes,
// timestamp delta, offset delta, null key, null value, no headers.
const minRecordSize = 7

// DecodeRecordBatch decodes the first v2 batch in b, checking its CRC and
// decompressing its records into at most maxDecompressed bytes. It returns
// the batch and the number of bytes it took from b.
func DecodeRecordBatch(b []byte, maxDecompressed int) (RecordBatch, int, error) {
	var rb RecordBatch
	if len(b) < RecordBatchHeaderSize {
		return rb, 0, fmt.Errorf("%w: %d bytes is shorter than a batch header", ErrCorruptBatch, len(b))
	}
	be := binary.BigEndian
	rb.BaseOffset = int64(be.Uint64(b[offBaseOffset:]))
	rb.BatchLength = int32(be.Uint32(b[offBatchLength:]))
	if rb.BatchLength < RecordBatchHeaderSize-12 || int64(rb.BatchLength) > int64(len(b)-12) {
		return rb, 0, fmt.Errorf("%w: batch length %d with %d bytes available", ErrCorruptBatch, rb.BatchLength, len(b)-12)
	}
	total := int(rb.BatchLength) + 12
	b = b[:total]
	rb.PartitionLeaderEpoch = int32(be.Uint32(b[offPartitionLeaderEpoch:]))
	rb.Magic = int8(b[offMagic])
	if rb.Magic != 2 {
		return rb, 0, fmt.Errorf("%w: magic %d, want 2", ErrCorruptBatch, rb.Magic)
	}
	rb.CRC = be.Uint32(b[offCRC:])
	if got := crc32.Checksum(b[offAttributes:], castagnoli); got != rb.CRC {
		return rb, 0, fmt.Errorf("%w: CRC-32C is %08x, header says %08x", ErrCorruptBatch, got, rb.CRC)
	}
	rb.Attributes = int16(be.Uint16(b[offAttributes:]))
	rb.LastOffsetDelta = int32(be.Uint32(b[offLastOffsetDelta:]))
	rb.BaseTimestamp = int64(be.Uint64(b[offBaseTimestamp:]))
	rb.MaxTimestamp = int64(be.Uint64(b[offMaxTimestamp:]))
	rb.ProducerID = int64(be.Uint64(b[offProducerID:]))
	rb.ProducerEpoch = int16(be.Uint16(b[offProducerEpoch:]))
	rb.BaseSequence = int32(be.Uint32(b[offBaseSequence:]))
	count := int32(be.Uint32(b[offRecordCount:]))
	records := b[RecordBatchHeaderSize:]
	if codec := rb.Codec(); codec != compress.None {
		if maxDecompressed <= 0 {
			maxDecompressed = 1
		}
		var err error
		records, err = compress.Decompress(codec, nil, records, maxDecompressed)
		if err != nil {
			return rb, 0, fmt.Errorf("%w: %w", ErrCorruptBatch, err)
		}
	}
	recs, err := DecodeRecords(records, count)
	if err != nil {
		return rb, 0, err
	}
	rb.Records = recs
	return rb, total, nil
}

// DecodeRecordBatches decodes every batch in b, as found in a Produce
// request's records field or a Fetch response's.
func DecodeRecordBatches(b []byte, maxDecompressed int) ([]RecordBatch, error) {
	var out []RecordBatch
	for len(b) > 0 {
		rb, n, err := DecodeRecordBatch(b, maxDecompressed)
		if err != nil {
			return out, err
		}
		out = append(out, rb)
		b = b[n:]
	}
	return out, nil
}

// DecodeRecords decodes exactly count records from an uncompressed records
// section. The count is checked against the bytes present before anything
// is allocated for it.
func DecodeRecords(b []byte, count int32) ([]Record, error) {
	if count < 0 || int64(count) > int64(len(b)/minRecordSize) {
		return nil, fmt.Errorf("%w: %d records cannot fit in %d bytes", ErrCorruptBatch, count, len(b))
	}
	recs := make([]Record, count)
	r := NewReader(b)
	for i := range recs {
		length := r.Varint()
		if r.Err() != nil {
			break
		}
		if length < minRecordSize-1 || int(length) > r.Remaining() {
			return nil, fmt.Errorf("%w: record %d claims %d bytes with %d left", ErrCorruptBatch, i, length, r.Remaining())
		}
		var body Reader
		body.Reset(r.take(int(length)))
		rec := &recs[i]
		rec.Attributes = body.Int8()
		rec.TimestampDelta = body.Varlong()
		rec.OffsetDelta = body.Varint()
		rec.Key = readVarBytes(&body)
		rec.Value = readVarBytes(&body)
		nh := body.Varint()
		if body.Err() == nil && (nh < 0 || int(nh) > body.Remaining()/2) {
			return nil, fmt.Errorf("%w: record %d claims %d headers in %d bytes", ErrCorruptBatch, i, nh, body.Remaining())
		}
		if nh > 0 {
			rec.Headers = make([]RecordHeader, nh)
			for j := range rec.Headers {
				k := readVarBytes(&body)
				if k == nil && body.Err() == nil {
					body.Fail(fmt.Errorf("%w: null header key", ErrCorruptBatch))
				}
				rec.Headers[j].Key = string(k)
				rec.Headers[j].Value = readVarBytes(&body)
			}
		}
		if err := body.Err(); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", ErrCorruptBatch, i, err)
		}
		if body.Remaining() != 0 {
			return nil, fmt.Errorf("%w: record %d has %d trailing bytes", ErrCorruptBatch, i, body.Remaining())
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptBatch, err)
	}
	if r.Remaining() != 0 {
		return nil, fmt.Errorf("%w: %d bytes after the last record", ErrCorruptBatch, r.Remaining())
	}
	return recs, nil
}

// readVarBytes reads varint-length-prefixed bytes where -1 means null.
func readVarBytes(r *Reader) []byte {
	n := r.Varint()
	if r.Err() != nil || n == -1 {
		return nil
	}
	if n < 0 || int(n) > r.Remaining() {
		r.Fail(fmt.Errorf("%w: length %d with %d bytes left", ErrInvalidLength, n, r.Remaining()))
		return nil
	}
	if n == 0 {
		return []byte{}
	}
	return r.take(int(n))
}
