package compress

import (
	"encoding/binary"
	"errors"
	"math/bits"

	"github.com/klauspost/compress/huff0"
)

// dfastEncoder writes zstd frames (RFC 8878) at the default level, with a
// "double fast" match finder as libzstd's levels 3 to 5 use: every position
// probed is looked up in a table of 8-byte hashes and one of 5-byte
// hashes. It exists for speed. klauspost's encoder at the same level keeps
// 1.3 MiB of tables whatever the input's size. A producer streams its
// buffer through the CPU caches and evicts them between batches, and the
// cache misses made zstd half of the producer's CPU. Here the tables are
// sized to the input, one 8-byte-hash entry for every 8 bytes: 80 KiB for a
// 64 KiB batch, 1.25 MiB at most. That costs little ratio, since most
// matches in a batch are near (see TestDfastRatioMatchesKlauspost).
//
// Like klauspost at this level, a block whose matches cover too little of
// it is stored raw rather than Huffman-coded, and the search skips ahead
// faster in such data: it is mostly incompressible, and coding it costs
// more CPU than every other step together.
//
// An encoder is not safe for concurrent use; it keeps its tables between
// calls.
type dfastEncoder struct {
	// Entries hold a position (plus cur) in their low half and the
	// first 4 bytes there in the high half, so that most candidates are
	// refused without reading the input.
	long  []uint64
	short []uint64
	// cur is added to the positions of the input being encoded; table
	// entries below it belong to earlier inputs. Zero is never valid.
	cur uint32
	rep [3]uint32
	// longMatched counts the bytes of the block's matches of 8 bytes
	// or more.
	longMatched int

	seqs             []zstdSeq
	lits             []byte
	llc, mlc, ofc    []uint8
	llCoder, mlCoder seqCoder
	ofCoder          seqCoder
	huff             huff0.Scratch
	bw               bitWriter
}

// zstdSeq is one sequence: literals, then a match.
type zstdSeq struct {
	litLen   uint32
	matchLen uint32
	// offVal is the offset plus 3, or 1 to 3 for a repeated offset
	// (RFC 8878 section 3.1.1.5).
	offVal uint32
}

const (
	// The 8-byte hash table has one entry for every 8 bytes of input
	// (dfastLongPerByteLog), within these bounds.
	dfastMaxLongLog     = 17
	dfastMinLongLog     = 8
	dfastLongPerByteLog = 3
	// dfastShortLess is how many bits the 5-byte table has less: it holds
	// a quarter as many entries.
	dfastShortLess = 2
	// dfastWindowLog is the window of inputs larger than it. Smaller ones
	// are single-segment frames whose window is their size.
	dfastWindowLog = 20
	dfastBlockSize = 128 << 10
	// dfastSearchStrength sets how fast the search skips ahead when it
	// finds nothing: one byte more for every 128 since it last found
	// matches worth coding, as klauspost's at this level does.
	dfastSearchStrength = 7
	// Matches are worth coding when they cover 1/32 of the data, or
	// matches of 8 bytes and more cover 1/128 of it (see dense).
	dfastDenseLog     = 5
	dfastDenseLongLog = 7
	// dfastMinHuffLits is the fewest literals worth a Huffman table.
	dfastMinHuffLits = 64

	dfastPrimeLong  = 0x9E3779B185EBCA87
	dfastPrimeShort = 0xC2B2AE3D27D4EB4F
)

func newDfastEncoder() *dfastEncoder {
	e := &dfastEncoder{cur: 1}
	e.huff.Reuse = huff0.ReusePolicyNone
	return e
}

func le64(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }
func le32(b []byte) uint32 { return binary.LittleEndian.Uint32(b) }

func hashLong(v uint64, log uint) uint32 { return uint32((v * dfastPrimeLong) >> (64 - log)) }

// hashShort hashes the low 5 bytes of v.
func hashShort(v uint64, log uint) uint32 {
	return uint32(((v << 24) * dfastPrimeShort) >> (64 - log))
}

// matchLen returns how many leading bytes a and b share.
func matchLen(a, b []byte) int {
	n := 0
	for len(a) >= 8 && len(b) >= 8 {
		if x := le64(a) ^ le64(b); x != 0 {
			return n + bits.TrailingZeros64(x)>>3
		}
		a, b, n = a[8:], b[8:], n+8
	}
	for i := 0; i < len(a) && i < len(b) && a[i] == b[i]; i++ {
		n++
	}
	return n
}

// EncodeAll appends one zstd frame holding src to dst.
func (e *dfastEncoder) EncodeAll(src, dst []byte) []byte {
	dst = appendZstdFrameHeader(dst, len(src))
	if len(src) == 0 {
		// One empty raw block, the last.
		return append(dst, 1, 0, 0)
	}
	longLog := uint(min(max(bits.Len(uint(len(src)-1))-dfastLongPerByteLog, dfastMinLongLog), dfastMaxLongLog))
	if len(e.long) < 1<<longLog {
		// New tables read as empty: every entry is below cur.
		e.long = make([]uint64, 1<<longLog)
		e.short = make([]uint64, 1<<(longLog-dfastShortLess))
	}
	if uint64(e.cur)+uint64(len(src)) >= 1<<31 {
		clear(e.long)
		clear(e.short)
		e.cur = 1
	}
	maxOff := len(src)
	if len(src) > 1<<dfastWindowLog {
		maxOff = 1<<dfastWindowLog - 1
	}
	e.rep = [3]uint32{1, 4, 8}
	for start := 0; start < len(src); start += dfastBlockSize {
		end := min(start+dfastBlockSize, len(src))
		last := end == len(src)
		rep := e.rep
		e.seqs, e.lits = e.seqs[:0], e.lits[:0]
		e.search(src, start, end, longLog, maxOff)
		ok := false
		if dense(end-start, (end-start)-len(e.lits), e.longMatched) {
			dst, ok = e.appendCompressed(dst, end-start, last)
		}
		if !ok {
			// The decoder sees no sequences in a raw block, so the
			// repeated offsets are as before it.
			e.rep = rep
			dst = appendBlockHeader(dst, 0, end-start, last)
			dst = append(dst, src[start:end]...)
		}
	}
	e.cur += uint32(len(src))
	return dst
}

// appendZstdFrameHeader appends the header of a frame of n bytes: single
// segment up to the window size, without checksum (the batch CRC covers
// the frame, and the Java client writes none either).
func appendZstdFrameHeader(dst []byte, n int) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, zstdFrameMagic)
	single := n <= 1<<dfastWindowLog
	var fhd byte
	if single {
		fhd = 1 << 5
	}
	switch {
	case single && n < 256:
		return append(dst, fhd, byte(n))
	case n < 1<<16+256:
		return binary.LittleEndian.AppendUint16(append(dst, fhd|1<<6), uint16(n-256))
	}
	dst = append(dst, fhd|2<<6)
	if !single {
		// Window_Descriptor: exponent windowLog-10, mantissa 0.
		dst = append(dst, (dfastWindowLog-10)<<3)
	}
	return binary.LittleEndian.AppendUint32(dst, uint32(n))
}

// appendBlockHeader appends a block header of type typ (0 raw, 2
// compressed) and size.
func appendBlockHeader(dst []byte, typ uint32, size int, last bool) []byte {
	h := uint32(size)<<3 | typ<<1
	if last {
		h |= 1
	}
	return append(dst, byte(h), byte(h>>8), byte(h>>16))
}

// search finds the sequences of src[start:end], appending them to e.seqs
// and their literals, with the block's last ones, to e.lits. Matches may
// reach back into earlier blocks but end within this one.
func (e *dfastEncoder) search(src []byte, start, end int, longLog uint, maxOff int) {
	shortLog := longLog - dfastShortLess
	long := e.long[:1<<longLog]
	short := e.short[:1<<shortLog]
	cur := e.cur
	anchor, i := start, start
	// skipFrom is where the search last found matches dense enough to
	// be worth coding; the step grows with the distance from it. Tiny
	// matches scattered in incompressible data (a record header every
	// kilobyte of random letters) would otherwise keep the search probing
	// every byte.
	skipFrom, matched := start, 0
	e.longMatched = 0
	ilimit := end - 8
	for i < ilimit {
		v := le64(src[i:])
		hl, hs := hashLong(v, longLog), hashShort(v, shortLog)
		cl, cs := long[hl], short[hs]
		entry := uint64(cur+uint32(i)) | v<<32
		long[hl], short[hs] = entry, entry

		var ms, mc, ml int
		// The last offset, one byte on: the match libzstd's fast
		// strategies try first, and the cheapest to code.
		if r := int(e.rep[0]); r <= i+1 && le32(src[i+1-r:]) == le32(src[i+1:]) {
			ms = i + 1
			ml = 4 + matchLen(src[ms-r+4:], src[ms+4:end])
			e.emit(src[anchor:ms], 1, ml)
			goto matched
		}
		if uint32(cl>>32) == uint32(v) && uint32(cl) >= cur {
			if c := int(uint32(cl) - cur); i-c <= maxOff && le64(src[c:]) == v {
				ms, mc = i, c
				ml = 8 + matchLen(src[c+8:], src[i+8:end])
				goto found
			}
		}
		if uint32(cs>>32) == uint32(v) && uint32(cs) >= cur {
			if c := int(uint32(cs) - cur); i-c <= maxOff {
				// An 8-byte match one position on beats this one.
				v1 := le64(src[i+1:])
				h1 := hashLong(v1, longLog)
				c1 := long[h1]
				long[h1] = uint64(cur+uint32(i+1)) | v1<<32
				if uint32(c1>>32) == uint32(v1) && uint32(c1) >= cur {
					if c := int(uint32(c1) - cur); i+1-c <= maxOff && le64(src[c:]) == v1 {
						ms, mc = i+1, c
						ml = 8 + matchLen(src[c+8:], src[ms+8:end])
						goto found
					}
				}
				ms, mc = i, c
				ml = 4 + matchLen(src[c+4:], src[i+4:end])
				goto found
			}
		}
		i += (i-skipFrom)>>dfastSearchStrength + 1
		continue

	found:
		for ms > anchor && mc > 0 && src[ms-1] == src[mc-1] {
			ms--
			mc--
			ml++
		}
		e.emit(src[anchor:ms], uint32(ms-mc+3), ml)
		e.rep = [3]uint32{uint32(ms - mc), e.rep[0], e.rep[1]}

	matched:
		i = ms + ml
		anchor = i
		matched += ml
		if ml >= 8 {
			e.longMatched += ml
		}
		// One long match is enough to search closely again: after
		// incompressible data, text follows (see the "mixed" corpus of
		// TestDfastRatioMoreCorpora).
		if ml >= 8 || dense(i-start, matched, e.longMatched) {
			skipFrom = i
		}
		if i > ilimit {
			break
		}
		// Index a position inside the match and two at its end, so
		// that the next match can start near it.
		p := ms + 2
		vp := le64(src[p:])
		long[hashLong(vp, longLog)] = uint64(cur+uint32(p)) | vp<<32
		short[hashShort(vp, shortLog)] = uint64(cur+uint32(p)) | vp<<32
		vp = le64(src[i-2:])
		long[hashLong(vp, longLog)] = uint64(cur+uint32(i-2)) | vp<<32
		vp = le64(src[i-1:])
		short[hashShort(vp, shortLog)] = uint64(cur+uint32(i-1)) | vp<<32
		// The offset before the last, right away: with no literals
		// between, offset code 1 means it (and swaps the two).
		for i <= ilimit {
			r := int(e.rep[1])
			if r > i || le32(src[i-r:]) != le32(src[i:]) {
				break
			}
			ml := 4 + matchLen(src[i-r+4:], src[i+4:end])
			v := le64(src[i:])
			long[hashLong(v, longLog)] = uint64(cur+uint32(i)) | v<<32
			short[hashShort(v, shortLog)] = uint64(cur+uint32(i)) | v<<32
			e.emit(nil, 1, ml)
			e.rep[0], e.rep[1] = e.rep[1], e.rep[0]
			i += ml
			anchor = i
		}
	}
	e.lits = append(e.lits, src[anchor:end]...)
}

// dense reports whether n bytes with matches covering matched bytes,
// long of them in matches of 8 bytes or more, are worth coding: else the
// data is taken as incompressible. A block that is not is stored raw, and
// the search skips ahead faster through such data. Huffman-coding its
// literals would cost more CPU than every other step together, for little
// gain where matches are this rare. Short matches alone are held to a
// higher bar: in records of random text, the record framing alone makes
// one every record, and klauspost's encoder at this level, which stores
// such blocks raw, finds almost none of them.
func dense(n, matched, long int) bool {
	return matched >= n>>dfastDenseLog || long >= n>>dfastDenseLongLog
}

func (e *dfastEncoder) emit(lits []byte, offVal uint32, ml int) {
	e.lits = append(e.lits, lits...)
	e.seqs = append(e.seqs, zstdSeq{litLen: uint32(len(lits)), matchLen: uint32(ml), offVal: offVal})
}

// appendCompressed appends the block of e.seqs and e.lits, unless it
// would not be smaller than the raw block of rawSize bytes.
func (e *dfastEncoder) appendCompressed(dst []byte, rawSize int, last bool) ([]byte, bool) {
	mark := len(dst)
	dst = append(dst, 0, 0, 0)
	dst = e.appendLiterals(dst)
	dst = e.appendSequences(dst)
	size := len(dst) - mark - 3
	if size >= rawSize {
		return dst[:mark], false
	}
	// Fill in the header reserved at mark, in place.
	appendBlockHeader(dst[:mark], 2, size, last)
	return dst, true
}

// appendLiterals appends the literals section: Huffman-coded when that
// saves something, else raw or one repeated byte.
func (e *dfastEncoder) appendLiterals(dst []byte) []byte {
	lits := e.lits
	n := len(lits)
	if n >= dfastMinHuffLits {
		var out []byte
		var err error
		single := n < 256
		if single {
			out, _, err = huff0.Compress1X(lits, &e.huff)
		} else {
			out, _, err = huff0.Compress4X(lits, &e.huff)
		}
		switch {
		case errors.Is(err, huff0.ErrUseRLE):
			return append(appendLitHeader(dst, 1, n), lits[0])
		case err == nil && len(out)+5 < n-n>>6:
			// Worth it when it saves more than a larger header and
			// 1/64 of the literals, as a decoder then has more work.
			// Literals_Section_Header of compressed literals:
			// type 2, then the size format, both sizes.
			c := len(out)
			switch {
			case single:
				h := uint32(2) | uint32(n)<<4 | uint32(c)<<14
				dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
			case n < 1024 && c < 1024:
				h := uint32(2) | 1<<2 | uint32(n)<<4 | uint32(c)<<14
				dst = append(dst, byte(h), byte(h>>8), byte(h>>16))
			case n < 16384 && c < 16384:
				h := uint32(2) | 2<<2 | uint32(n)<<4 | uint32(c)<<18
				dst = binary.LittleEndian.AppendUint32(dst, h)
			default:
				h := uint64(2) | 3<<2 | uint64(n)<<4 | uint64(c)<<22
				dst = append(dst, byte(h), byte(h>>8), byte(h>>16), byte(h>>24), byte(h>>32))
			}
			return append(dst, out...)
		}
	}
	return append(appendLitHeader(dst, 0, n), lits...)
}

// appendLitHeader appends the header of raw (typ 0) or RLE (typ 1)
// literals.
func appendLitHeader(dst []byte, typ byte, n int) []byte {
	switch {
	case n < 32:
		return append(dst, typ|byte(n)<<3)
	case n < 4096:
		return append(dst, typ|1<<2|byte(n)<<4, byte(n>>4))
	}
	return append(dst, typ|3<<2|byte(n)<<4, byte(n>>4), byte(n>>12))
}

// appendSequences appends the sequences section of e.seqs.
func (e *dfastEncoder) appendSequences(dst []byte) []byte {
	n := len(e.seqs)
	switch {
	case n < 128:
		dst = append(dst, byte(n))
	case n < 0x7F00:
		dst = append(dst, byte(n>>8)+0x80, byte(n))
	default:
		dst = append(dst, 0xFF, byte(n-0x7F00), byte((n-0x7F00)>>8))
	}
	if n == 0 {
		return dst
	}
	e.llc, e.mlc, e.ofc = growCodes(e.llc, n), growCodes(e.mlc, n), growCodes(e.ofc, n)
	llc, mlc, ofc := e.llc[:n], e.mlc[:n], e.ofc[:n]
	clear(e.llCoder.counts[:])
	clear(e.mlCoder.counts[:])
	clear(e.ofCoder.counts[:])
	for i, s := range e.seqs {
		llc[i] = llCode(s.litLen)
		mlc[i] = mlCode(s.matchLen - 3)
		ofc[i] = uint8(bits.Len32(s.offVal) - 1)
		e.llCoder.counts[llc[i]]++
		e.mlCoder.counts[mlc[i]]++
		e.ofCoder.counts[ofc[i]]++
	}
	modes := len(dst)
	dst = append(dst, 0)
	dst = e.llCoder.choose(dst, uint32(n), 9, zstdPredefLL, zstdPredefLLLog)
	dst = e.ofCoder.choose(dst, uint32(n), 8, zstdPredefOF, zstdPredefOFLog)
	dst = e.mlCoder.choose(dst, uint32(n), 9, zstdPredefML, zstdPredefMLLog)
	dst[modes] = e.llCoder.mode<<6 | e.ofCoder.mode<<4 | e.mlCoder.mode<<2

	// The decoder reads the stream from its end: initial states, then
	// the sequences in order. So it is written from the last sequence
	// back, each one's state transitions before its extra bits.
	llT, ofT, mlT := e.llCoder.tab(), e.ofCoder.tab(), e.mlCoder.tab()
	w := &e.bw
	w.out = dst
	var sll, sof, sml uint32
	last := n - 1
	if llT != nil {
		sll = uint32(llT.syms[llc[last]].first)
	}
	if ofT != nil {
		sof = uint32(ofT.syms[ofc[last]].first)
	}
	if mlT != nil {
		sml = uint32(mlT.syms[mlc[last]].first)
	}
	for i := last; i >= 0; i-- {
		if i != last {
			if ofT != nil {
				sof = ofT.encode(w, sof, ofc[i])
			}
			if mlT != nil {
				sml = mlT.encode(w, sml, mlc[i])
			}
			if llT != nil {
				sll = llT.encode(w, sll, llc[i])
			}
		}
		s := &e.seqs[i]
		w.add(uint64(s.litLen-llBase[llc[i]]), uint(llBits[llc[i]]))
		w.flush()
		w.add(uint64(s.matchLen-mlBase[mlc[i]]), uint(mlBits[mlc[i]]))
		w.add(uint64(s.offVal), uint(ofc[i]))
		w.flush()
	}
	if mlT != nil {
		w.add(uint64(sml), mlT.log)
	}
	if ofT != nil {
		w.add(uint64(sof), ofT.log)
	}
	if llT != nil {
		w.add(uint64(sll), llT.log)
	}
	w.close()
	dst = w.out
	w.out = nil
	return dst
}

func growCodes(b []uint8, n int) []uint8 {
	if cap(b) < n {
		return make([]uint8, n, n+n/4)
	}
	return b[:n]
}

// Literal and match length codes: each code's base value and how many
// extra bits follow it (RFC 8878 section 3.1.1.3.2.1.1).
var (
	llBits = [36]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	mlBits = [53]uint8{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		1, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	llBase, mlBase [53]uint32
	llCodes        [64]uint8
	mlCodes        [128]uint8
)

func init() {
	next := uint32(0)
	for c, b := range llBits {
		llBase[c] = next
		next += 1 << b
	}
	next = 3
	for c, b := range mlBits {
		mlBase[c] = next
		next += 1 << b
	}
	for c := range llBits {
		for v := llBase[c]; v < llBase[c]+1<<llBits[c] && v < 64; v++ {
			llCodes[v] = uint8(c)
		}
	}
	for c := range mlBits {
		for v := mlBase[c] - 3; v < mlBase[c]-3+1<<mlBits[c] && v < 128; v++ {
			mlCodes[v] = uint8(c)
		}
	}
}

func llCode(l uint32) uint8 {
	if l < 64 {
		return llCodes[l]
	}
	return uint8(bits.Len32(l)) + 18
}

// mlCode returns the code of a match length less 3.
func mlCode(m uint32) uint8 {
	if m < 128 {
		return mlCodes[m]
	}
	return uint8(bits.Len32(m)) + 35
}
