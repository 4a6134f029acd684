package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/golang/snappy"
)

// The xerial framing that snappy-java's SnappyOutputStream writes and the
// Java client expects: a 16-byte header (magic, version 1, minimum
// compatible version 1), then blocks of a big-endian int32 length and a raw
// snappy block.
const (
	xerialMagicLen  = 8
	xerialHeaderLen = xerialMagicLen + 4 + 4
	// xerialBlockSize is SnappyOutputStream.DEFAULT_BLOCK_SIZE, the most
	// input one block holds.
	xerialBlockSize = 32 << 10
)

var xerialHeader = [xerialHeaderLen]byte{
	0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0, // magic
	0, 0, 0, 1, // version
	0, 0, 0, 1, // minimum compatible version
}

type snappyCompressor struct{}

func (snappyCompressor) Codec() Codec { return Snappy }

// Compress writes the xerial framing as snappy-java does, header included
// even for empty input.
func (snappyCompressor) Compress(dst, src []byte) ([]byte, error) {
	dst = append(dst, xerialHeader[:]...)
	for len(src) > 0 {
		block := src[:min(len(src), xerialBlockSize)]
		src = src[len(block):]
		bound := snappy.MaxEncodedLen(len(block))
		dst = grow(dst, 4+bound)
		start := len(dst)
		// Encode writes into the spare capacity when it is at least
		// bound long, which grow made sure of.
		enc := snappy.Encode(dst[start+4:start+4+bound], block)
		binary.BigEndian.PutUint32(dst[start:start+4], uint32(len(enc)))
		dst = dst[:start+4+len(enc)]
	}
	return dst, nil
}

// decompressSnappy reads input as snappy-java's SnappyInputStream does: the
// xerial framing when the input starts with a whole header whose magic
// matches, else one raw snappy block. Within the framing, a block length
// equal to the magic's first four bytes starts a concatenated stream's
// header. Versions are not checked, as current snappy-java does not check
// the leading one.
func decompressSnappy(dst, src []byte, maxSize int) ([]byte, error) {
	start := len(dst)
	if len(src) < xerialHeaderLen || !bytes.Equal(src[:xerialMagicLen], xerialHeader[:xerialMagicLen]) {
		dst, err := decodeSnappyBlock(dst, src, 0, maxSize)
		if err != nil {
			return dst[:start], err
		}
		return dst, nil
	}
	magicHead := binary.BigEndian.Uint32(xerialHeader[:4])
	src = src[xerialHeaderLen:]
	for len(src) > 0 {
		if len(src) < 4 {
			return dst[:start], corrupt(Snappy, fmt.Errorf("%d trailing bytes after the last xerial block", len(src)))
		}
		n := binary.BigEndian.Uint32(src)
		if n == magicHead {
			if len(src) < xerialHeaderLen || !bytes.Equal(src[:xerialMagicLen], xerialHeader[:xerialMagicLen]) {
				return dst[:start], corrupt(Snappy, errors.New("bad header of a concatenated xerial stream"))
			}
			src = src[xerialHeaderLen:]
			continue
		}
		src = src[4:]
		if uint64(n) > uint64(len(src)) {
			return dst[:start], corrupt(Snappy, fmt.Errorf("xerial block of %d bytes, only %d left", n, len(src)))
		}
		var err error
		if dst, err = decodeSnappyBlock(dst, src[:n], len(dst)-start, maxSize); err != nil {
			return dst[:start], err
		}
		src = src[n:]
	}
	return dst, nil
}

// decodeSnappyBlock appends one raw snappy block to dst, of which out bytes
// are earlier output of the same call. It checks the length the block
// declares against what is left of maxSize before growing dst, so a lying
// header cannot make it allocate.
func decodeSnappyBlock(dst, block []byte, out, maxSize int) ([]byte, error) {
	n, err := snappy.DecodedLen(block)
	if err != nil {
		return dst, corrupt(Snappy, err)
	}
	budget := maxSize - out
	if n > budget {
		return dst, fmt.Errorf("%w: snappy block of %d bytes after %d, limit %d", ErrTooLarge, n, out, maxSize)
	}
	if cap(dst)-len(dst) < n {
		// Double the output rather than fit each block exactly, which
		// would copy everything once per 32 KiB block.
		dst = grow(dst, min(max(n, out), budget))
	}
	start := len(dst)
	dec, err := snappy.Decode(dst[start:start+n], block)
	if err != nil {
		return dst, corrupt(Snappy, err)
	}
	if len(dec) != n {
		// Decode checks this itself; guard anyway, since a short block
		// would leave stale bytes in dst.
		return dst, corrupt(Snappy, errors.New("block decoded to an unexpected length"))
	}
	return dst[:start+n], nil
}
