package compress

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCodecString(t *testing.T) {
	for c, want := range map[Codec]string{
		None: "none", Gzip: "gzip", Snappy: "snappy", LZ4: "lz4", Zstd: "zstd",
		5: "codec(5)", -1: "codec(-1)",
	} {
		require.Equal(t, want, c.String())
	}
}

func TestCodecWireValues(t *testing.T) {
	// The values are the attribute bits of a RecordBatch, fixed by the
	// protocol.
	require.EqualValues(t, 0, None)
	require.EqualValues(t, 1, Gzip)
	require.EqualValues(t, 2, Snappy)
	require.EqualValues(t, 3, LZ4)
	require.EqualValues(t, 4, Zstd)
}

func TestParseCodec(t *testing.T) {
	tests := []struct {
		name string
		want Codec
		err  bool
	}{
		{"", None, false},
		{"none", None, false},
		{"NONE", None, false},
		{"gzip", Gzip, false},
		{"GZip", Gzip, false},
		{"snappy", Snappy, false},
		{"SNAPPY", Snappy, false},
		{"lz4", LZ4, false},
		{"LZ4", LZ4, false},
		{"zstd", Zstd, false},
		{"ZStd", Zstd, false},
		{"zstandard", None, true},
		{"lz4hc", None, true},
		{" gzip", None, true},
		{"uncompressed", None, true},
		{"producer", None, true},
		{"1", None, true},
	}
	for _, tt := range tests {
		got, err := ParseCodec(tt.name)
		if tt.err {
			require.ErrorIs(t, err, ErrUnknownCodec, "%q", tt.name)
			require.Contains(t, err.Error(), tt.name)
			continue
		}
		require.NoError(t, err, "%q", tt.name)
		require.Equal(t, tt.want, got, "%q", tt.name)
	}
}

func TestValidateLevel(t *testing.T) {
	tests := []struct {
		codec Codec
		level int
		ok    bool
	}{
		{None, DefaultLevel, true},
		{None, 0, false},
		{None, 1, false},
		{Snappy, DefaultLevel, true},
		{Snappy, 0, false},
		{Snappy, -1, false},

		{Gzip, DefaultLevel, true},
		{Gzip, -1, true}, // Deflater.DEFAULT_COMPRESSION, as Java accepts
		{Gzip, 1, true},
		{Gzip, 6, true},
		{Gzip, 9, true},
		{Gzip, 0, false},
		{Gzip, -2, false},
		{Gzip, 10, false},

		{LZ4, DefaultLevel, true},
		{LZ4, 1, true},
		{LZ4, 9, true},
		{LZ4, 17, true},
		{LZ4, 0, false},
		{LZ4, -1, false},
		{LZ4, 18, false},

		{Zstd, DefaultLevel, true},
		{Zstd, -131072, true},
		{Zstd, -1, true},
		{Zstd, 0, true},
		{Zstd, 3, true},
		{Zstd, 22, true},
		{Zstd, -131073, false},
		{Zstd, 23, false},
	}
	for _, tt := range tests {
		err := ValidateLevel(tt.codec, tt.level)
		if tt.ok {
			require.NoError(t, err, "%v level %d", tt.codec, tt.level)
			_, err = NewCompressor(tt.codec, tt.level)
			require.NoError(t, err, "%v level %d", tt.codec, tt.level)
			continue
		}
		require.ErrorIs(t, err, ErrInvalidLevel, "%v level %d", tt.codec, tt.level)
		// The message names the codec and, where there is one, the range.
		require.Contains(t, err.Error(), tt.codec.String())
		switch tt.codec {
		case Gzip:
			require.Contains(t, err.Error(), "1..9")
		case LZ4:
			require.Contains(t, err.Error(), "1..17")
		case Zstd:
			require.Contains(t, err.Error(), "-131072..22")
		}
		_, err = NewCompressor(tt.codec, tt.level)
		require.ErrorIs(t, err, ErrInvalidLevel)
	}
}

func TestUnknownCodec(t *testing.T) {
	for _, c := range []Codec{5, 7, -1} {
		require.ErrorIs(t, ValidateLevel(c, DefaultLevel), ErrUnknownCodec)
		_, err := NewCompressor(c, DefaultLevel)
		require.ErrorIs(t, err, ErrUnknownCodec)
		_, err = Decompress(c, nil, []byte{1}, 100)
		require.ErrorIs(t, err, ErrUnknownCodec)
	}
}

func TestCompressorCodec(t *testing.T) {
	for _, tc := range codecs {
		comp, err := NewCompressor(tc.codec, DefaultLevel)
		require.NoError(t, err)
		require.Equal(t, tc.codec, comp.Codec())
	}
}

func TestDecompressRejectsNonPositiveMaxSize(t *testing.T) {
	for _, max := range []int{0, -1} {
		_, err := Decompress(None, nil, []byte("x"), max)
		require.Error(t, err)
		require.Contains(t, err.Error(), "maxSize")
	}
}

func TestLevelMappings(t *testing.T) {
	// Java uses lz4-java's fast compressor only at the default level 9.
	require.Equal(t, 0, lz4LevelIndex(DefaultLevel))
	require.Equal(t, 0, lz4LevelIndex(9))
	require.Equal(t, 1, lz4LevelIndex(1))
	require.Equal(t, 8, lz4LevelIndex(8))
	require.Equal(t, 9, lz4LevelIndex(10))
	require.Equal(t, 9, lz4LevelIndex(17))

	// zstd level 0 is libzstd's default, 3.
	require.Equal(t, zstdEncoderLevel(3), zstdEncoderLevel(0))
	require.Equal(t, zstdEncoderLevel(3), zstdEncoderLevel(DefaultLevel))
	require.NotEqual(t, zstdEncoderLevel(1), zstdEncoderLevel(0))

	// gzip's default and Java's -1 both mean zlib's 6.
	require.Equal(t, 6, gzipLevel(DefaultLevel))
	require.Equal(t, 6, gzipLevel(-1))
	require.Equal(t, 9, gzipLevel(9))
}
