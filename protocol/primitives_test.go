package protocol

import (
	"encoding/binary"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVarintRoundTrip(t *testing.T) {
	for _, v := range []int32{0, 1, -1, 63, -64, 64, -65, 1 << 20, math.MaxInt32, math.MinInt32} {
		b := AppendVarint(nil, v)
		require.Len(t, b, VarintLen(v), "len of %d", v)
		// The standard library's zig-zag varint is an independent check.
		want, n := binary.Varint(b)
		require.Equal(t, len(b), n)
		require.Equal(t, int64(v), want)
		r := NewReader(b)
		require.Equal(t, v, r.Varint())
		require.NoError(t, r.Complete())
	}
	for _, v := range []int64{0, -1, 1, math.MaxInt64, math.MinInt64, 1 << 40, -(1 << 40)} {
		b := AppendVarlong(nil, v)
		require.Len(t, b, VarlongLen(v))
		want, n := binary.Varint(b)
		require.Equal(t, len(b), n)
		require.Equal(t, v, want)
		r := NewReader(b)
		require.Equal(t, v, r.Varlong())
		require.NoError(t, r.Complete())
	}
	for _, v := range []uint32{0, 127, 128, 16383, 16384, math.MaxUint32} {
		b := AppendUvarint(nil, v)
		require.Len(t, b, UvarintLen(v))
		want, n := binary.Uvarint(b)
		require.Equal(t, len(b), n)
		require.Equal(t, uint64(v), want)
		r := NewReader(b)
		require.Equal(t, v, r.Uvarint())
		require.NoError(t, r.Complete())
	}
}

func TestVarintOverflow(t *testing.T) {
	r := NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	r.Uvarint()
	require.ErrorIs(t, r.Err(), ErrVarintOverflow)

	r = NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	r.Varlong()
	require.ErrorIs(t, r.Err(), ErrVarintOverflow)

	r = NewReader([]byte{0x80})
	r.Uvarint()
	require.ErrorIs(t, r.Err(), ErrShortBuffer)
}

func TestFixedWidthAndStrings(t *testing.T) {
	s := "héllo"
	var b []byte
	b = AppendInt8(b, -2)
	b = AppendBool(b, true)
	b = AppendInt16(b, -300)
	b = AppendUint16(b, 65000)
	b = AppendInt32(b, -70000)
	b = AppendUint32(b, 4000000000)
	b = AppendInt64(b, -1<<40)
	b = AppendFloat64(b, 2.5)
	b = AppendString(b, s)
	b = AppendNullableString(b, nil)
	b = AppendNullableString(b, &s)
	b = AppendCompactString(b, s)
	b = AppendCompactNullableString(b, nil)
	b = AppendCompactNullableString(b, &s)
	b = AppendBytes(b, []byte{1, 2})
	b = AppendNullableBytes(b, nil)
	b = AppendCompactBytes(b, []byte{})
	b = AppendCompactNullableBytes(b, nil)
	b = AppendArrayLen(b, 3)
	b = AppendArrayLen(b, -1)
	b = AppendCompactArrayLen(b, 0)
	b = AppendCompactArrayLen(b, -1)
	u := UUID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	b = AppendUUID(b, u)
	b = AppendTaggedField(append(b, 2), 0, []byte{7})
	b = AppendTaggedField(b, 5, []byte{8, 9})

	r := NewReader(b)
	require.Equal(t, int8(-2), r.Int8())
	require.True(t, r.Bool())
	require.Equal(t, int16(-300), r.Int16())
	require.Equal(t, uint16(65000), r.Uint16())
	require.Equal(t, int32(-70000), r.Int32())
	require.Equal(t, uint32(4000000000), r.Uint32())
	require.Equal(t, int64(-1<<40), r.Int64())
	require.Equal(t, 2.5, r.Float64())
	require.Equal(t, s, r.String())
	require.Nil(t, r.NullableString())
	require.Equal(t, s, *r.NullableString())
	require.Equal(t, s, r.CompactString())
	require.Nil(t, r.CompactNullableString())
	require.Equal(t, s, *r.CompactNullableString())
	require.Equal(t, []byte{1, 2}, r.Bytes())
	require.Nil(t, r.NullableBytes())
	got := r.CompactBytes()
	require.NotNil(t, got)
	require.Empty(t, got)
	require.Nil(t, r.CompactNullableBytes())
	// Three int32 elements would need 12 bytes; the reader has enough left.
	require.Equal(t, 3, r.ArrayLen(1))
	require.Equal(t, -1, r.ArrayLen(1))
	require.Equal(t, 0, r.CompactArrayLen(1))
	require.Equal(t, -1, r.CompactArrayLen(1))
	require.Equal(t, u, r.UUID())
	tags := map[uint32][]byte{}
	r.TaggedFields(func(tag uint32, data []byte) { tags[tag] = data })
	require.Equal(t, map[uint32][]byte{0: {7}, 5: {8, 9}}, tags)
	require.NoError(t, r.Complete())
}

func TestHostileLengths(t *testing.T) {
	// An array that claims two billion elements in a ten-byte buffer fails
	// without allocating for them.
	b := AppendInt32(nil, math.MaxInt32)
	b = append(b, make([]byte, 10)...)
	allocs := testing.AllocsPerRun(100, func() {
		r := NewReader(b)
		require.Equal(t, 0, r.ArrayLen(4))
		if r.Err() == nil {
			t.Fatal("no error for a hostile array length")
		}
	})
	require.LessOrEqual(t, allocs, 1.0)

	cases := map[string][]byte{
		"negative string":   AppendInt16(nil, -2),
		"long string":       AppendInt16(nil, 100),
		"negative bytes":    AppendInt32(nil, -5),
		"long bytes":        append(AppendInt32(nil, 1<<30), 1, 2, 3),
		"negative array":    AppendInt32(nil, -7),
		"long compact":      AppendUvarint(nil, 1<<31),
		"long tagged field": {1, 0, 100, 1},
		"many tags":         AppendUvarint(nil, 1000),
	}
	reads := map[string]func(r *Reader){
		"negative string":   func(r *Reader) { _ = r.String() },
		"long string":       func(r *Reader) { r.NullableString() },
		"negative bytes":    func(r *Reader) { r.Bytes() },
		"long bytes":        func(r *Reader) { r.Bytes() },
		"negative array":    func(r *Reader) { r.ArrayLen(1) },
		"long compact":      func(r *Reader) { r.CompactBytes() },
		"long tagged field": func(r *Reader) { r.TaggedFields(nil) },
		"many tags":         func(r *Reader) { r.TaggedFields(nil) },
	}
	for name, in := range cases {
		r := NewReader(in)
		reads[name](r)
		require.Error(t, r.Err(), name)
		// Every later read sees the same error and returns a zero value.
		require.Zero(t, r.Int64(), name)
		require.Error(t, r.Complete(), name)
	}
}

func TestReaderTrailingBytes(t *testing.T) {
	r := NewReader([]byte{0, 1, 2})
	r.Int16()
	require.Error(t, r.Complete())
	require.Equal(t, []byte{2}, r.Rest())
	require.NoError(t, r.Complete())
}

func TestUUIDString(t *testing.T) {
	// Kafka prints UUIDs as URL-safe base64 without padding.
	u := UUID{0xfb, 0xff, 0xbf}
	require.Equal(t, "-_-_AAAAAAAAAAAAAAAAAA", u.String())
	require.True(t, UUID{}.IsZero())
}

func TestRequestHeader(t *testing.T) {
	id := "client"
	h := RequestHeader{APIKey: 0, APIVersion: 9, CorrelationID: 42, ClientID: &id}
	b := AppendRequestHeader(nil, h, true)
	want := []byte{0, 0, 0, 9, 0, 0, 0, 42, 0, 6, 'c', 'l', 'i', 'e', 'n', 't', 0}
	require.Equal(t, want, b)
	r := NewReader(b)
	got := ReadRequestHeader(r, true)
	require.NoError(t, r.Complete())
	require.Equal(t, h, got)

	b = AppendRequestHeader(nil, RequestHeader{APIKey: 3, APIVersion: 1, CorrelationID: 1}, false)
	require.Equal(t, []byte{0, 3, 0, 1, 0, 0, 0, 1, 0xff, 0xff}, b)

	b = AppendResponseHeader(nil, 7, true)
	r = NewReader(b)
	require.Equal(t, int32(7), ReadResponseHeader(r, true))
	require.NoError(t, r.Complete())
}
