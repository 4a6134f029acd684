package compress

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"

	"github.com/pierrec/lz4/v4"
)

// lz4Encoder is the reused state of one lz4 compression.
type lz4Encoder struct {
	w   *lz4.Writer
	out sliceWriter
}

// lz4Levels lists pierrec's levels from weakest to strongest; Fast is its
// fast compressor and Level1..Level9 are its high-compression search depths.
var lz4Levels = [...]lz4.CompressionLevel{
	lz4.Fast, lz4.Level1, lz4.Level2, lz4.Level3, lz4.Level4,
	lz4.Level5, lz4.Level6, lz4.Level7, lz4.Level8, lz4.Level9,
}

// newLZ4Encoder returns a pierrec Writer at level.
func newLZ4Encoder(level lz4.CompressionLevel) *lz4Encoder {
	w := lz4.NewWriter(nil)
	// What Lz4BlockOutputStream writes: 64 KiB independent blocks
	// (independence is pierrec's only mode), no block checksums and no
	// content checksum. pierrec computes the header checksum over the
	// descriptor alone, the corrected form KIP-57 made the rule for
	// message format v1 and later. Concurrency 1 compresses on the
	// caller's goroutine.
	err := w.Apply(
		lz4.BlockSizeOption(lz4.Block64Kb),
		lz4.BlockChecksumOption(false),
		lz4.ChecksumOption(false),
		lz4.ConcurrencyOption(1),
		lz4.CompressionLevelOption(level),
	)
	if err != nil {
		// The options are constants pierrec accepts.
		panic("compress: lz4 options rejected: " + err.Error())
	}
	return &lz4Encoder{w: w}
}

// lz4LevelIndex maps a Kafka lz4 level to an index into lz4Levels. The Java
// client compresses with lz4-java's fast compressor at the default level 9
// and with its high compressor at every other level, so 9 maps to Fast and
// the rest to pierrec's high-compression levels: 1..8 to Level1..Level8, and
// 10..17 (lz4's optimal-parsing levels, which pierrec lacks) to its
// strongest, Level9. As in Java, level 8 is therefore slower than level 9.
func lz4LevelIndex(level int) int {
	switch {
	case level == DefaultLevel || level == lz4DefaultLevel:
		return 0
	case level < lz4DefaultLevel:
		return level
	default:
		return len(lz4Levels) - 1
	}
}

type lz4Compressor struct {
	cache *encoderCache[*lz4Encoder]
}

func newLZ4Compressor(level int) lz4Compressor {
	l := lz4Levels[lz4LevelIndex(level)]
	return lz4Compressor{cache: newEncoderCache(func() *lz4Encoder { return newLZ4Encoder(l) })}
}

func (lz4Compressor) Codec() Codec { return LZ4 }

func (c lz4Compressor) Compress(dst, src []byte) ([]byte, error) {
	e := c.cache.get()
	e.out.b = dst
	e.w.Reset(&e.out)
	_, err := e.w.Write(src)
	// Close writes the header even for empty input, as Java's stream
	// does on construction, then the end mark.
	if cerr := e.w.Close(); err == nil {
		err = cerr
	}
	dst = e.out.b
	e.out.b = nil
	c.cache.put(e)
	return dst, err
}

// lz4Decoder is the pooled state of one lz4 decompression.
type lz4Decoder struct {
	r     *lz4.Reader
	src   bytes.Reader
	probe [1]byte
}

var lz4ReaderPool = sync.Pool{New: func() any {
	d := new(lz4Decoder)
	// pierrec's default concurrency is 1, which decodes on the caller's
	// goroutine; a Reset keeps it.
	d.r = lz4.NewReader(&d.src)
	return d
}}

// decompressLZ4 reads lz4 frames with pierrec's Reader, which checks the
// header checksum (so frames with the pre-KIP-57 checksum that message
// format v0 used are rejected), block and content checksums when present,
// and reads concatenated and skippable frames. It holds two block buffers of
// the frame's block size, at most 4 MiB each, whatever maxSize is.
func decompressLZ4(dst, src []byte, maxSize int) ([]byte, error) {
	if err := checkLZ4Frames(src); err != nil {
		return dst, corrupt(LZ4, err)
	}
	d := lz4ReaderPool.Get().(*lz4Decoder)
	defer lz4ReaderPool.Put(d)
	d.src.Reset(src)
	d.r.Reset(&d.src)
	defer func() {
		// Reset returns the block buffers to pierrec's pool and drops
		// the reference to src.
		d.src.Reset(nil)
		d.r.Reset(&d.src)
	}()
	return drain(LZ4, dst, d.r, maxSize, d.probe[:])
}

const (
	lz4FrameMagic  = 0x184D2204
	lz4LegacyMagic = 0x184C2102
	// lz4SkipMagic is the first of the 16 skippable frame magics.
	lz4SkipMagic = 0x184D2A50
)

// checkLZ4Frames walks the frames in src and rejects legacy frames before
// pierrec sees them: pierrec accepts them, with 8 MiB buffers, but neither
// Kafka's Lz4BlockInputStream nor any Kafka client writes them. Block
// contents and checksums are left to pierrec.
func checkLZ4Frames(src []byte) error {
	for len(src) > 0 {
		if len(src) < 4 {
			return fmt.Errorf("%d trailing bytes after the last frame", len(src))
		}
		magic := binary.LittleEndian.Uint32(src)
		switch {
		case magic == lz4LegacyMagic:
			return errors.New("legacy lz4 frames are not supported")
		case magic&^0xF == lz4SkipMagic:
			if len(src) < 8 {
				return errors.New("truncated skippable frame")
			}
			n := uint64(binary.LittleEndian.Uint32(src[4:]))
			if n > uint64(len(src)-8) {
				return errors.New("truncated skippable frame")
			}
			src = src[8+n:]
			continue
		case magic != lz4FrameMagic:
			return fmt.Errorf("bad frame magic %#08x", magic)
		}
		// Magic, FLG, BD, optional content size and dictionary ID, HC.
		if len(src) < 7 {
			return errors.New("truncated frame descriptor")
		}
		flg := src[4]
		hdr := 7
		if flg&0x08 != 0 {
			hdr += 8
		}
		if flg&0x01 != 0 {
			hdr += 4
		}
		if len(src) < hdr {
			return errors.New("truncated frame descriptor")
		}
		src = src[hdr:]
		blockChecksum := flg&0x10 != 0
		for {
			if len(src) < 4 {
				return errors.New("truncated block header")
			}
			raw := binary.LittleEndian.Uint32(src)
			src = src[4:]
			if raw == 0 {
				// The end mark has no checksum even when blocks do.
				break
			}
			// The high bit flags a stored block; the rest is its size.
			n := uint64(raw &^ (1 << 31))
			if blockChecksum {
				n += 4
			}
			if n > uint64(len(src)) {
				return errors.New("truncated block")
			}
			src = src[n:]
		}
		if flg&0x04 != 0 {
			if len(src) < 4 {
				return errors.New("truncated content checksum")
			}
			src = src[4:]
		}
	}
	return nil
}
