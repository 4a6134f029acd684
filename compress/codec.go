// Package compress implements Kafka's four record batch compression codecs
// (gzip, snappy, lz4 and zstd) behind one small interface.
//
// The wire forms follow what the Java client writes and reads, so that
// batches produced here are readable by every Kafka consumer and broker:
//
//   - gzip: RFC 1952 members; decoding accepts concatenated members.
//   - snappy: the xerial (snappy-java) stream framing; decoding also accepts
//     a single raw snappy block, as SnappyInputStream does.
//   - lz4: the LZ4 frame format with a correct header checksum (KIP-57),
//     independent 64 KiB blocks and no checksums, like Lz4BlockOutputStream.
//   - zstd: standard zstd frames, single-segment up to 1 MiB, without
//     checksum. Levels 3 to 5 (the default 3 among them) use this package's
//     own encoder, built for speed in a producer (zstd_dfast.go); the others
//     use klauspost's.
//
// Compressors are safe for concurrent use and pool their encoders, so that
// steady-state compression allocates nothing beyond growing dst.
// Decompress bounds its output while it streams, so a small hostile input
// cannot make it allocate more than the caller's limit.
package compress

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Codec is the compression codec as it appears in the low 3 bits of a
// RecordBatch's attributes.
type Codec int8

// The codecs Kafka defines; the values are the attribute bits on the wire.
const (
	None   Codec = 0
	Gzip   Codec = 1
	Snappy Codec = 2
	LZ4    Codec = 3
	Zstd   Codec = 4
)

// Sentinel errors; match them with errors.Is.
var (
	// ErrUnknownCodec reports a codec name or attribute value that is not
	// one of None, Gzip, Snappy, LZ4 or Zstd.
	ErrUnknownCodec = errors.New("compress: unknown codec")
	// ErrInvalidLevel reports a compression level outside the codec's
	// KIP-390 range.
	ErrInvalidLevel = errors.New("compress: invalid compression level")
	// ErrTooLarge reports that decompressed output would exceed the
	// caller's maxSize.
	ErrTooLarge = errors.New("compress: decompressed data too large")
	// ErrCorrupt reports compressed input that cannot be decoded; the
	// error also carries the codec library's own message.
	ErrCorrupt = errors.New("compress: corrupt input")
)

// String returns the codec's name as Kafka's compression.type spells it, or
// "codec(N)" for a value Kafka does not define.
func (c Codec) String() string {
	switch c {
	case None:
		return "none"
	case Gzip:
		return "gzip"
	case Snappy:
		return "snappy"
	case LZ4:
		return "lz4"
	case Zstd:
		return "zstd"
	}
	return fmt.Sprintf("codec(%d)", int8(c))
}

// ParseCodec returns the codec named by name, ignoring case. The empty
// string means None, as an unset compression.type does. Surrounding spaces
// are not trimmed.
func ParseCodec(name string) (Codec, error) {
	if name == "" {
		return None, nil
	}
	for _, c := range [...]Codec{None, Gzip, Snappy, LZ4, Zstd} {
		if strings.EqualFold(name, c.String()) {
			return c, nil
		}
	}
	return None, fmt.Errorf("%w: %q (want none, gzip, snappy, lz4 or zstd)", ErrUnknownCodec, name)
}

// DefaultLevel asks for the codec's default level (KIP-390): 6 for gzip (the
// zlib default the Java client gets from Deflater.DEFAULT_COMPRESSION), 9 for
// lz4 and 3 for zstd. It is math.MinInt32 because every other small integer
// is a real level for some codec (zstd's range reaches -131072), and it is
// the only level snappy and none accept.
const DefaultLevel = math.MinInt32

// The KIP-390 level ranges, as the Java client's CompressionType defines them.
const (
	gzipMinLevel     = 1
	gzipMaxLevel     = 9
	gzipDefaultLevel = 6
	// gzipJavaDefault is Deflater.DEFAULT_COMPRESSION, which the Java
	// client accepts in compression.gzip.level besides 1..9.
	gzipJavaDefault = -1

	lz4MinLevel     = 1
	lz4MaxLevel     = 17
	lz4DefaultLevel = 9

	zstdMinLevel     = -131072 // ZSTD_minCLevel
	zstdMaxLevel     = 22      // ZSTD_MAX_CLEVEL
	zstdDefaultLevel = 3       // ZSTD_CLEVEL_DEFAULT
)

// ValidateLevel reports whether level is usable with c: DefaultLevel always
// is; otherwise gzip takes 1..9 (and -1, which the Java client accepts as
// Deflater.DEFAULT_COMPRESSION), lz4 takes 1..17 and zstd takes
// -131072..22, the KIP-390 ranges. Snappy and none have no levels.
func ValidateLevel(c Codec, level int) error {
	if !c.valid() {
		return fmt.Errorf("%w: %v", ErrUnknownCodec, c)
	}
	if level == DefaultLevel {
		return nil
	}
	switch c {
	case Gzip:
		if level == gzipJavaDefault || (level >= gzipMinLevel && level <= gzipMaxLevel) {
			return nil
		}
		return fmt.Errorf("%w: %d for gzip (want %d..%d, or -1 for the default)", ErrInvalidLevel, level, gzipMinLevel, gzipMaxLevel)
	case LZ4:
		if level >= lz4MinLevel && level <= lz4MaxLevel {
			return nil
		}
		return fmt.Errorf("%w: %d for lz4 (want %d..%d)", ErrInvalidLevel, level, lz4MinLevel, lz4MaxLevel)
	case Zstd:
		if level >= zstdMinLevel && level <= zstdMaxLevel {
			return nil
		}
		return fmt.Errorf("%w: %d for zstd (want %d..%d)", ErrInvalidLevel, level, zstdMinLevel, zstdMaxLevel)
	}
	return fmt.Errorf("%w: %d for %v (it has no levels; use DefaultLevel)", ErrInvalidLevel, level, c)
}

func (c Codec) valid() bool {
	return c >= None && c <= Zstd
}
