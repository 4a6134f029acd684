// Package protocol is Kafka's wire format: primitives, request and response
// messages, and record batches. It does no I/O: everything appends to a byte
// slice or reads from one, which keeps it fuzzable and testable byte for byte.
package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// ErrShortBuffer is returned when a message ends before a field it declares.
var ErrShortBuffer = errors.New("protocol: not enough bytes")

// ErrInvalidLength is returned for a negative length where none is allowed,
// or a length larger than the bytes that remain.
var ErrInvalidLength = errors.New("protocol: invalid length")

// ErrVarintOverflow is returned for a varint longer than its type allows.
var ErrVarintOverflow = errors.New("protocol: varint overflows")

// UUID is a Kafka UUID (topic IDs, KIP-516).
type UUID [16]byte

// IsZero reports whether u is the all-zero UUID, which Kafka uses for "none".
func (u UUID) IsZero() bool { return u == UUID{} }

// String formats u as Kafka prints it, in URL-safe base64 without padding.
func (u UUID) String() string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	var out [22]byte
	var acc uint32
	bits := 0
	n := 0
	for _, c := range u {
		acc = acc<<8 | uint32(c)
		bits += 8
		for bits >= 6 {
			bits -= 6
			out[n] = enc[(acc>>uint(bits))&63]
			n++
		}
	}
	if bits > 0 {
		out[n] = enc[(acc<<uint(6-bits))&63]
		n++
	}
	return string(out[:n])
}

// AppendInt8 appends v.
func AppendInt8(b []byte, v int8) []byte { return append(b, byte(v)) }

// AppendBool appends v as one byte, 1 for true.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendInt16 appends v big-endian.
func AppendInt16(b []byte, v int16) []byte { return binary.BigEndian.AppendUint16(b, uint16(v)) }

// AppendUint16 appends v big-endian.
func AppendUint16(b []byte, v uint16) []byte { return binary.BigEndian.AppendUint16(b, v) }

// AppendInt32 appends v big-endian.
func AppendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

// AppendUint32 appends v big-endian.
func AppendUint32(b []byte, v uint32) []byte { return binary.BigEndian.AppendUint32(b, v) }

// AppendInt64 appends v big-endian.
func AppendInt64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// AppendFloat64 appends v as an IEEE 754 double, big-endian.
func AppendFloat64(b []byte, v float64) []byte {
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

// AppendUvarint appends v as an unsigned varint.
func AppendUvarint(b []byte, v uint32) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendVarint appends v zig-zag encoded, as record fields use it.
func AppendVarint(b []byte, v int32) []byte {
	return AppendUvarint(b, uint32(v<<1)^uint32(v>>31))
}

// AppendVarlong appends v zig-zag encoded as a 64-bit varint.
func AppendVarlong(b []byte, v int64) []byte {
	u := uint64(v<<1) ^ uint64(v>>63)
	for u >= 0x80 {
		b = append(b, byte(u)|0x80)
		u >>= 7
	}
	return append(b, byte(u))
}

// UvarintLen is the number of bytes AppendUvarint writes for v.
func UvarintLen(v uint32) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// VarintLen is the number of bytes AppendVarint writes for v.
func VarintLen(v int32) int { return UvarintLen(uint32(v<<1) ^ uint32(v>>31)) }

// VarlongLen is the number of bytes AppendVarlong writes for v.
func VarlongLen(v int64) int {
	u := uint64(v<<1) ^ uint64(v>>63)
	n := 1
	for u >= 0x80 {
		u >>= 7
		n++
	}
	return n
}

// AppendString appends s with an int16 length.
func AppendString(b []byte, s string) []byte {
	b = AppendInt16(b, int16(len(s)))
	return append(b, s...)
}

// AppendNullableString appends s with an int16 length, -1 for nil.
func AppendNullableString(b []byte, s *string) []byte {
	if s == nil {
		return AppendInt16(b, -1)
	}
	return AppendString(b, *s)
}

// AppendCompactString appends s with an unsigned varint length plus one.
func AppendCompactString(b []byte, s string) []byte {
	b = AppendUvarint(b, uint32(len(s))+1)
	return append(b, s...)
}

// AppendCompactNullableString appends s as a compact string, 0 for nil.
func AppendCompactNullableString(b []byte, s *string) []byte {
	if s == nil {
		return append(b, 0)
	}
	return AppendCompactString(b, *s)
}

// AppendBytes appends v with an int32 length.
func AppendBytes(b, v []byte) []byte {
	b = AppendInt32(b, int32(len(v)))
	return append(b, v...)
}

// AppendNullableBytes appends v with an int32 length, -1 for nil.
func AppendNullableBytes(b, v []byte) []byte {
	if v == nil {
		return AppendInt32(b, -1)
	}
	return AppendBytes(b, v)
}

// AppendCompactBytes appends v with an unsigned varint length plus one.
func AppendCompactBytes(b, v []byte) []byte {
	b = AppendUvarint(b, uint32(len(v))+1)
	return append(b, v...)
}

// AppendCompactNullableBytes appends v as compact bytes, 0 for nil.
func AppendCompactNullableBytes(b, v []byte) []byte {
	if v == nil {
		return append(b, 0)
	}
	return AppendCompactBytes(b, v)
}

// AppendArrayLen appends an int32 array length; n < 0 means a null array.
func AppendArrayLen(b []byte, n int) []byte {
	if n < 0 {
		return AppendInt32(b, -1)
	}
	return AppendInt32(b, int32(n))
}

// AppendCompactArrayLen appends a compact array length (n+1); n < 0 means
// a null array.
func AppendCompactArrayLen(b []byte, n int) []byte {
	if n < 0 {
		return append(b, 0)
	}
	return AppendUvarint(b, uint32(n)+1)
}

// AppendUUID appends u's 16 bytes.
func AppendUUID(b []byte, u UUID) []byte { return append(b, u[:]...) }

// AppendEmptyTaggedFields appends a tagged-field section with no fields.
func AppendEmptyTaggedFields(b []byte) []byte { return append(b, 0) }

// AppendTaggedField appends one tagged field: its tag, its size, its bytes.
func AppendTaggedField(b []byte, tag uint32, data []byte) []byte {
	b = AppendUvarint(b, tag)
	b = AppendUvarint(b, uint32(len(data)))
	return append(b, data...)
}

// Reader decodes Kafka primitives from a byte slice. The first error sticks:
// later reads return zero values, so a decoder reads every field in a row
// and checks Err once at the end.
type Reader struct {
	b   []byte
	err error
}

// NewReader returns a Reader over b. It does not copy b; byte fields it
// returns alias b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Reset makes r read from b and clears its error.
func (r *Reader) Reset(b []byte) { r.b, r.err = b, nil }

// Err returns the first error the reader met, if any.
func (r *Reader) Err() error { return r.err }

// Remaining is the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.b) }

// Rest returns the unread bytes and consumes them.
func (r *Reader) Rest() []byte {
	b := r.b
	r.b = r.b[len(r.b):]
	return b
}

// Complete returns the sticky error, or an error if bytes were left unread.
func (r *Reader) Complete() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("protocol: %d trailing bytes", len(r.b))
	}
	return nil
}

// Fail sets the sticky error if none is set yet.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
		r.b = nil
	}
}

func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		if n < 0 {
			r.Fail(ErrInvalidLength)
		} else {
			r.Fail(ErrShortBuffer)
		}
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// Int8 reads an int8.
func (r *Reader) Int8() int8 {
	b := r.take(1)
	if b == nil {
		return 0
	}
	return int8(b[0])
}

// Bool reads a boolean byte; any non-zero value is true.
func (r *Reader) Bool() bool { return r.Int8() != 0 }

// Int16 reads a big-endian int16.
func (r *Reader) Int16() int16 {
	b := r.take(2)
	if b == nil {
		return 0
	}
	return int16(binary.BigEndian.Uint16(b))
}

// Uint16 reads a big-endian uint16.
func (r *Reader) Uint16() uint16 { return uint16(r.Int16()) }

// Int32 reads a big-endian int32.
func (r *Reader) Int32() int32 {
	b := r.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Uint32 reads a big-endian uint32.
func (r *Reader) Uint32() uint32 { return uint32(r.Int32()) }

// Int64 reads a big-endian int64.
func (r *Reader) Int64() int64 {
	b := r.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Float64 reads a big-endian IEEE 754 double.
func (r *Reader) Float64() float64 { return math.Float64frombits(uint64(r.Int64())) }

// Uvarint reads an unsigned varint of at most 5 bytes.
func (r *Reader) Uvarint() uint32 {
	if r.err != nil {
		return 0
	}
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(r.b) {
			r.Fail(ErrShortBuffer)
			return 0
		}
		c := r.b[i]
		if i == 4 && c > 0x0f {
			r.Fail(ErrVarintOverflow)
			return 0
		}
		v |= uint32(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			r.b = r.b[i+1:]
			return v
		}
	}
	r.Fail(ErrVarintOverflow)
	return 0
}

// Varint reads a zig-zag varint.
func (r *Reader) Varint() int32 {
	u := r.Uvarint()
	return int32(u>>1) ^ -int32(u&1)
}

// Varlong reads a zig-zag varint of up to 64 bits.
func (r *Reader) Varlong() int64 {
	if r.err != nil {
		return 0
	}
	var u uint64
	for i := 0; i < 10; i++ {
		if i >= len(r.b) {
			r.Fail(ErrShortBuffer)
			return 0
		}
		c := r.b[i]
		if i == 9 && c > 1 {
			r.Fail(ErrVarintOverflow)
			return 0
		}
		u |= uint64(c&0x7f) << (7 * uint(i))
		if c < 0x80 {
			r.b = r.b[i+1:]
			return int64(u>>1) ^ -int64(u&1)
		}
	}
	r.Fail(ErrVarintOverflow)
	return 0
}

// UUID reads 16 bytes.
func (r *Reader) UUID() UUID {
	var u UUID
	copy(u[:], r.take(16))
	return u
}

// String reads an int16-length string; a null string reads as "".
func (r *Reader) String() string {
	n := int(r.Int16())
	if n == -1 {
		return ""
	}
	return string(r.take(n))
}

// NullableString reads an int16-length string, nil for length -1.
func (r *Reader) NullableString() *string {
	n := int(r.Int16())
	if n == -1 || r.err != nil {
		return nil
	}
	s := string(r.take(n))
	if r.err != nil {
		return nil
	}
	return &s
}

// compactLen reads a compact length: the unsigned varint minus one, -1 for null.
func (r *Reader) compactLen() int {
	return int(int64(r.Uvarint()) - 1)
}

// CompactString reads a compact string; null reads as "".
func (r *Reader) CompactString() string {
	n := r.compactLen()
	if n == -1 {
		return ""
	}
	return string(r.take(n))
}

// CompactNullableString reads a compact string, nil for null.
func (r *Reader) CompactNullableString() *string {
	n := r.compactLen()
	if n == -1 || r.err != nil {
		return nil
	}
	s := string(r.take(n))
	if r.err != nil {
		return nil
	}
	return &s
}

// Bytes reads int32-length bytes; null reads as nil. The result aliases
// the reader's input.
func (r *Reader) Bytes() []byte {
	n := int(r.Int32())
	if n == -1 {
		return nil
	}
	return r.take(n)
}

// NullableBytes is Bytes; both keep nil for a null value.
func (r *Reader) NullableBytes() []byte { return r.Bytes() }

// CompactBytes reads compact bytes; null reads as nil.
func (r *Reader) CompactBytes() []byte {
	n := r.compactLen()
	if n == -1 {
		return nil
	}
	return r.take(n)
}

// CompactNullableBytes is CompactBytes; both keep nil for a null value.
func (r *Reader) CompactNullableBytes() []byte { return r.CompactBytes() }

// ArrayLen reads an int32 array length and checks it against the bytes
// left, given the smallest encoded size of one element; -1 means null.
// A hostile length fails here instead of causing a huge allocation.
func (r *Reader) ArrayLen(minElem int) int {
	n := int(r.Int32())
	return r.checkArrayLen(n, minElem)
}

// CompactArrayLen reads a compact array length, checked like ArrayLen.
func (r *Reader) CompactArrayLen(minElem int) int {
	return r.checkArrayLen(r.compactLen(), minElem)
}

func (r *Reader) checkArrayLen(n, minElem int) int {
	if r.err != nil {
		return 0
	}
	if n < -1 {
		r.Fail(ErrInvalidLength)
		return 0
	}
	if minElem < 1 {
		minElem = 1
	}
	if n > 0 && n > len(r.b)/minElem {
		r.Fail(ErrInvalidLength)
		return 0
	}
	return n
}

// TaggedFields reads a tagged-field section and calls fn for each field
// with its tag and its bytes. fn may be nil to skip every field; unknown
// tags must be skipped, as KIP-482 requires.
func (r *Reader) TaggedFields(fn func(tag uint32, data []byte)) {
	n := r.Uvarint()
	if r.err != nil {
		return
	}
	if int(n) > len(r.b)/2 && n > 0 {
		r.Fail(ErrInvalidLength)
		return
	}
	for i := uint32(0); i < n && r.err == nil; i++ {
		tag := r.Uvarint()
		size := r.Uvarint()
		data := r.take(int(size))
		if r.err == nil && fn != nil {
			fn(tag, data)
		}
	}
}
