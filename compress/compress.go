package compress

import (
	"errors"
	"fmt"
	"io"
)

// Compressor compresses record batches with one codec at one level.
// Implementations are safe for concurrent use.
type Compressor interface {
	// Codec returns the codec whose attribute bits the output needs.
	Codec() Codec
	// Compress appends the compressed form of src to dst and returns the
	// extended slice. dst and src must not overlap.
	Compress(dst, src []byte) ([]byte, error)
}

// NewCompressor returns a Compressor for c at level, which must pass
// ValidateLevel. The result is safe for concurrent use. It builds encoders
// as callers first need them and keeps them for reuse, never more than
// were in use at once; they go with the Compressor, so keep one per
// producer rather than one per call.
func NewCompressor(c Codec, level int) (Compressor, error) {
	if err := ValidateLevel(c, level); err != nil {
		return nil, err
	}
	switch c {
	case None:
		return noneCompressor{}, nil
	case Gzip:
		return newGzipCompressor(level), nil
	case Snappy:
		return snappyCompressor{}, nil
	case LZ4:
		return newLZ4Compressor(level), nil
	default: // Zstd; ValidateLevel rejected the rest.
		return newZstdCompressor(level), nil
	}
}

// Decompress appends the decompressed form of src, compressed with c, to dst
// and returns the extended slice.
//
// maxSize bounds the number of bytes appended (not len(dst)) and must be
// positive; pass the largest batch the caller is prepared to hold. Output
// that would exceed it fails with an error wrapping ErrTooLarge, detected
// while streaming: Decompress never allocates more than about maxSize bytes
// of output, whatever the input claims. Input that cannot be decoded fails
// with an error wrapping ErrCorrupt; empty input is corrupt for every codec
// but None.
//
// On error the returned slice has dst's original length, though its
// capacity may have grown. dst and src must not overlap. Decompress is safe
// for concurrent use.
func Decompress(c Codec, dst, src []byte, maxSize int) ([]byte, error) {
	if maxSize <= 0 {
		return dst, fmt.Errorf("compress: maxSize must be positive, got %d", maxSize)
	}
	if c != None && len(src) == 0 {
		return dst, corrupt(c, errors.New("empty input"))
	}
	switch c {
	case None:
		if len(src) > maxSize {
			return dst, tooLarge(c, maxSize)
		}
		return append(dst, src...), nil
	case Gzip:
		return decompressGzip(dst, src, maxSize)
	case Snappy:
		return decompressSnappy(dst, src, maxSize)
	case LZ4:
		return decompressLZ4(dst, src, maxSize)
	case Zstd:
		return decompressZstd(dst, src, maxSize)
	}
	return dst, fmt.Errorf("%w: %v", ErrUnknownCodec, c)
}

type noneCompressor struct{}

func (noneCompressor) Codec() Codec { return None }

func (noneCompressor) Compress(dst, src []byte) ([]byte, error) {
	return append(dst, src...), nil
}

func corrupt(c Codec, err error) error {
	return fmt.Errorf("%w: %v: %w", ErrCorrupt, c, err)
}

func tooLarge(c Codec, maxSize int) error {
	return fmt.Errorf("%w: %v output exceeds %d bytes", ErrTooLarge, c, maxSize)
}

// sliceWriter is an io.Writer that appends to b. Encoders keep one inside
// their pooled state so that handing it to a library writer allocates
// nothing.
type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

const (
	// minGrow is the least drain grows its output by, so that tiny first
	// reads do not cost a reallocation each.
	minGrow = 4 << 10
	// maxEmptyReads bounds how many (0, nil) reads drain tolerates in a
	// row before it calls the decoder stuck, as io.ReadAll's callers rely
	// on io.ErrNoProgress for.
	maxEmptyReads = 100
)

// drain appends everything r yields to dst. It fails with ErrTooLarge as
// soon as more than maxSize bytes have come out: it never offers r room
// beyond maxSize, and once exactly maxSize bytes are in it asks for one more
// byte through probe to tell a complete stream from an oversized one. The
// buffer grows with the output, by doubling, so a bomb costs at most about
// maxSize bytes of it. On error the slice returned has dst's original
// length.
func drain(c Codec, dst []byte, r io.Reader, maxSize int, probe []byte) ([]byte, error) {
	start := len(dst)
	empty := 0
	for {
		out := len(dst) - start
		remaining := maxSize - out
		var n int
		var err error
		if remaining == 0 {
			n, err = r.Read(probe[:1])
			if n > 0 {
				return dst[:start], tooLarge(c, maxSize)
			}
		} else {
			if len(dst) == cap(dst) {
				dst = grow(dst, min(max(out, minGrow), remaining))
			}
			room := min(cap(dst)-len(dst), remaining)
			n, err = r.Read(dst[len(dst) : len(dst)+room])
			dst = dst[:len(dst)+n]
		}
		switch {
		case err == io.EOF:
			return dst, nil
		case err != nil:
			return dst[:start], corrupt(c, err)
		case n > 0:
			empty = 0
		default:
			if empty++; empty > maxEmptyReads {
				return dst[:start], corrupt(c, io.ErrNoProgress)
			}
		}
	}
}

// grow returns b with room for at least n more bytes. Unlike append it sizes
// the new array exactly, so the output buffer never runs far past maxSize.
func grow(b []byte, n int) []byte {
	if cap(b)-len(b) >= n {
		return b
	}
	nb := make([]byte, len(b), len(b)+n)
	copy(nb, b)
	return nb
}
