package compress

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/klauspost/compress/zstd"
)

// zstdEncoderWindow caps the encoder's window. Kafka batches are rarely
// above 1 MiB, and a small window keeps the decoders of every consumer
// small; the Java client's default level uses 2 MiB.
const zstdEncoderWindow = 1 << 20

// newZstdEncoder returns a klauspost encoder at level.
func newZstdEncoder(level zstd.EncoderLevel) *zstd.Encoder {
	enc, err := zstd.NewWriter(nil,
		zstd.WithEncoderLevel(level),
		// Each encoder serves one caller at a time; the cache provides
		// the parallelism, and memory follows actual use rather than
		// GOMAXPROCS.
		zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(zstdEncoderWindow),
		// Empty input still yields a frame, so that it decodes as empty
		// rather than as corrupt.
		zstd.WithZeroFrames(true),
		// Like the Java client (zstd-jni's default), write no content
		// checksum: the batch CRC covers the compressed bytes.
		zstd.WithEncoderCRC(false),
	)
	if err != nil {
		// The options are constants klauspost accepts.
		panic("compress: zstd options rejected: " + err.Error())
	}
	return enc
}

// zstdEncoderLevel maps a Kafka zstd level to klauspost's four levels with
// zstd.EncoderLevelFromZstd (below 3 fastest, 3..5 default, 6..9 better, 10
// and up best). Level 0 means the default, 3, as it does in libzstd and
// therefore in the Java client.
func zstdEncoderLevel(level int) zstd.EncoderLevel {
	if level == DefaultLevel || level == 0 {
		level = zstdDefaultLevel
	}
	return zstd.EncoderLevelFromZstd(level)
}

// zstdEncoder is klauspost's encoder or ours.
type zstdEncoder interface {
	EncodeAll(src, dst []byte) []byte
}

type zstdCompressor struct {
	cache *encoderCache[zstdEncoder]
}

// newZstdCompressor uses our own encoder (zstd_dfast.go) for the levels
// klauspost runs as SpeedDefault, the Kafka default among them, and
// klauspost's for the others.
func newZstdCompressor(level int) zstdCompressor {
	l := zstdEncoderLevel(level)
	if l == zstd.SpeedDefault {
		return zstdCompressor{cache: newEncoderCache(func() zstdEncoder { return newDfastEncoder() })}
	}
	return zstdCompressor{cache: newEncoderCache(func() zstdEncoder { return newZstdEncoder(l) })}
}

func (zstdCompressor) Codec() Codec { return Zstd }

func (c zstdCompressor) Compress(dst, src []byte) ([]byte, error) {
	enc := c.cache.get()
	dst = enc.EncodeAll(src, dst)
	c.cache.put(enc)
	return dst, nil
}

// zstdDecoder is the pooled state of one zstd decompression.
type zstdDecoder struct {
	d     *zstd.Decoder
	src   zstdSource
	probe [1]byte
}

var zstdDecoderPool = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil,
		// One block decoder, run on the caller's goroutine: no
		// goroutines to leak when the pool drops a Decoder unclosed.
		zstd.WithDecoderConcurrency(1),
		// Never decode a whole buffered input in one go on Reset; the
		// output must stream through drain to be bounded.
		zstd.WithDecodeBuffersBelow(0),
		// decompressZstd bounds windows itself, by maxSize; this only
		// lifts klauspost's fixed 512 MiB ceiling.
		zstd.WithDecoderMaxWindow(zstdMaxWindow),
	)
	if err != nil {
		// The options are constants klauspost accepts.
		panic("compress: zstd options rejected: " + err.Error())
	}
	return &zstdDecoder{d: d}
}}

// decompressZstd streams src through a pooled klauspost Decoder, which
// reads concatenated and skippable frames. A stream decoder allocates its
// frame's whole window up front, and a frame may declare up to 3.75 TB, so
// before decoding it walks the frame headers: frames whose declared content
// adds up to more than maxSize fail at once, and a window larger than
// maxSize plus two blocks is lowered to that as the frame streams past (see
// zstdSource). That is sound because decoding stops once output exceeds
// maxSize, so no match can reach back further than that.
func decompressZstd(dst, src []byte, maxSize int) ([]byte, error) {
	limit := zstdWindowLimit(maxSize)
	first, err := scanZstdFrames(src, maxSize, limit)
	if err != nil {
		if errors.Is(err, ErrTooLarge) {
			return dst, err
		}
		return dst, corrupt(Zstd, err)
	}
	d := zstdDecoderPool.Get().(*zstdDecoder)
	defer zstdDecoderPool.Put(d)
	defer func() {
		// Drop the references to src; the Decoder keeps its buffers.
		_ = d.d.Reset(nil)
		d.src.reset(nil, -1, zstdWindow{})
	}()
	d.src.reset(src, first, limit)
	if err := d.d.Reset(&d.src); err != nil {
		return dst, corrupt(Zstd, err)
	}
	return drain(Zstd, dst, d.d, maxSize, d.probe[:])
}

const (
	zstdFrameMagic = 0xFD2FB528
	// zstdSkipMagic is the first of the 16 skippable frame magics.
	zstdSkipMagic = 0x184D2A50
	// zstdMaxBlock is the largest a block may decode to.
	zstdMaxBlock = 128 << 10
	// zstdMaxWindow is the largest window a frame can declare (RFC 8878
	// section 3.1.1.1.2: exponent 31, mantissa 7).
	zstdMaxWindow = 1<<41 + 7<<38
	// zstdMinWindowLog is the window log of a zero Window_Descriptor.
	zstdMinWindowLog = 10
)

// zstdWindowLimit returns the smallest window a Window_Descriptor can
// express that holds maxSize bytes plus two blocks, and that descriptor.
// Decoding stops within one block of maxSize (drain asks for at most
// maxSize+1 bytes and the decoder works in whole blocks), so every valid
// match offset fits such a window.
func zstdWindowLimit(maxSize int) zstdWindow {
	need := uint64(maxSize) + 2*zstdMaxBlock
	for exp := range 32 {
		base := uint64(1) << (zstdMinWindowLog + exp)
		for mantissa := range 8 {
			if size := base + base/8*uint64(mantissa); size >= need {
				return zstdWindow{size: size, descriptor: byte(exp<<3 | mantissa)}
			}
		}
	}
	return zstdWindow{size: zstdMaxWindow, descriptor: 0xFF}
}

type zstdWindow struct {
	size       uint64
	descriptor byte
}

// zstdFrame describes one frame found by nextZstdFrame.
type zstdFrame struct {
	// windowAt is the offset of the Window_Descriptor byte, or -1 for a
	// skippable or single-segment frame.
	windowAt int
	window   uint64
	// contentSize is the declared Frame_Content_Size, or -1 if absent.
	contentSize int64
	// end is the offset just past the frame.
	end int
}

// nextZstdFrame parses the frame at src[pos:], following RFC 8878 section
// 3.1 for its header and skipping its blocks by their headers, without
// decoding them.
func nextZstdFrame(src []byte, pos int) (zstdFrame, error) {
	f := zstdFrame{windowAt: -1, contentSize: -1}
	b := src[pos:]
	if len(b) < 4 {
		return f, fmt.Errorf("%d trailing bytes after the last frame", len(b))
	}
	magic := binary.LittleEndian.Uint32(b)
	if magic&^0xF == zstdSkipMagic {
		if len(b) < 8 {
			return f, errors.New("truncated skippable frame")
		}
		n := uint64(binary.LittleEndian.Uint32(b[4:]))
		if n > uint64(len(b)-8) {
			return f, errors.New("truncated skippable frame")
		}
		f.end = pos + 8 + int(n)
		return f, nil
	}
	if magic != zstdFrameMagic {
		return f, fmt.Errorf("bad frame magic %#08x", magic)
	}
	if len(b) < 5 {
		return f, errors.New("truncated frame header")
	}
	fhd := b[4]
	if fhd&0x08 != 0 {
		return f, errors.New("reserved bit set in frame header")
	}
	single := fhd&0x20 != 0
	p := 5
	if !single {
		if len(b) < p+1 {
			return f, errors.New("truncated frame header")
		}
		wd := b[p]
		base := uint64(1) << (zstdMinWindowLog + wd>>3)
		f.window = base + base/8*uint64(wd&7)
		f.windowAt = pos + p
		p++
	}
	p += [4]int{0, 1, 2, 4}[fhd&3] // Dictionary_ID
	fcsLen := [4]int{0, 2, 4, 8}[fhd>>6]
	if fcsLen == 0 && single {
		fcsLen = 1
	}
	if len(b) < p+fcsLen {
		return f, errors.New("truncated frame header")
	}
	switch fcsLen {
	case 1:
		f.contentSize = int64(b[p])
	case 2:
		f.contentSize = int64(binary.LittleEndian.Uint16(b[p:])) + 256
	case 4:
		f.contentSize = int64(binary.LittleEndian.Uint32(b[p:]))
	case 8:
		// Sizes beyond int64 are as hopeless as MaxInt64.
		f.contentSize = int64(min(binary.LittleEndian.Uint64(b[p:]), math.MaxInt64))
	}
	p += fcsLen
	for {
		if len(b) < p+3 {
			return f, errors.New("truncated block header")
		}
		h := uint32(b[p]) | uint32(b[p+1])<<8 | uint32(b[p+2])<<16
		p += 3
		size := int(h >> 3)
		switch (h >> 1) & 3 {
		case 0, 2: // raw, compressed
		case 1: // RLE: one byte repeated size times
			size = 1
		default:
			return f, errors.New("reserved block type")
		}
		if len(b)-p < size {
			return f, errors.New("truncated block")
		}
		p += size
		if h&1 != 0 {
			break
		}
	}
	if fhd&0x04 != 0 {
		if len(b)-p < 4 {
			return f, errors.New("truncated content checksum")
		}
		p += 4
	}
	f.end = pos + p
	return f, nil
}

// scanZstdFrames checks that src is a whole sequence of frames and that
// the content sizes they declare fit maxSize. It returns the offset of the
// first frame whose window exceeds limit, or -1.
func scanZstdFrames(src []byte, maxSize int, limit zstdWindow) (int, error) {
	first := -1
	var declared uint64
	for pos := 0; pos < len(src); {
		f, err := nextZstdFrame(src, pos)
		if err != nil {
			return -1, err
		}
		if f.contentSize >= 0 {
			declared += uint64(f.contentSize)
			if declared > uint64(maxSize) {
				return -1, fmt.Errorf("%w: zstd frames declare more than %d bytes", ErrTooLarge, maxSize)
			}
		}
		if first < 0 && f.windowAt >= 0 && f.window > limit.size {
			first = pos
		}
		pos = f.end
	}
	return first, nil
}

// zstdSource reads src, lowering each Window_Descriptor that declares a
// window over limit to limit's, as the bytes go past. scanZstdFrames has
// checked the frame structure, so the walk cannot fail.
type zstdSource struct {
	src   []byte
	off   int
	limit zstdWindow
	// patchAt is the offset of the next descriptor to lower, or -1.
	patchAt int
	// next is the offset of the first frame not yet walked.
	next int
}

func (s *zstdSource) reset(src []byte, first int, limit zstdWindow) {
	*s = zstdSource{src: src, limit: limit, patchAt: -1, next: len(src)}
	if first >= 0 {
		s.next = first
		s.findPatch()
	}
}

// findPatch walks frames from s.next to the next window over the limit.
func (s *zstdSource) findPatch() {
	s.patchAt = -1
	for s.next < len(s.src) {
		f, err := nextZstdFrame(s.src, s.next)
		if err != nil {
			s.next = len(s.src)
			return
		}
		s.next = f.end
		if f.windowAt >= 0 && f.window > s.limit.size {
			s.patchAt = f.windowAt
			return
		}
	}
}

func (s *zstdSource) Read(p []byte) (int, error) {
	if s.off >= len(s.src) {
		return 0, io.EOF
	}
	n := copy(p, s.src[s.off:])
	end := s.off + n
	for s.patchAt >= 0 && s.patchAt < end {
		p[s.patchAt-s.off] = s.limit.descriptor
		s.findPatch()
	}
	s.off = end
	return n, nil
}
