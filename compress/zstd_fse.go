package compress

import (
	"encoding/binary"
	"math"
	"math/bits"
)

// This file holds the entropy coding of zstd sequences (RFC 8878 section
// 4.1): FSE tables built from normalized counts, their description, and the
// backward bit stream the three interleaved FSE states are written to.

// bitWriter appends a little-endian bit stream, first bit lowest.
type bitWriter struct {
	out  []byte
	acc  uint64
	nacc uint
}

// add appends the low n bits of v. The caller flushes often enough that
// fewer than 64 bits are ever held.
func (w *bitWriter) add(v uint64, n uint) {
	w.acc |= (v & (1<<n - 1)) << w.nacc
	w.nacc += n
}

// flush writes out the whole bytes held, leaving at most 7 bits.
func (w *bitWriter) flush() {
	n := w.nacc >> 3
	w.out = binary.LittleEndian.AppendUint64(w.out, w.acc)
	w.out = w.out[:len(w.out)-8+int(n)]
	w.acc >>= n * 8
	w.nacc &= 7
}

// close ends the stream with the 1 bit a reader looks for to find its end.
func (w *bitWriter) close() {
	w.add(1, 1)
	w.flush()
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	w.acc, w.nacc = 0, 0
}

// fseSymbol is how one symbol is encoded from any state.
type fseSymbol struct {
	deltaNbBits    uint32
	deltaFindState int32
	first          uint16 // a state that decodes to the symbol
}

// fseTable encodes one of the three sequence code alphabets.
type fseTable struct {
	log    uint
	states [1 << zstdMaxFSELog]uint16
	syms   [zstdMaxFSESymbols]fseSymbol
	spread [1 << zstdMaxFSELog]uint8
}

const (
	zstdMaxFSELog     = 9
	zstdMaxFSESymbols = 53
)

// build fills the table for norm, normalized counts summing to 1<<log in
// which -1 stands for a probability below one (a single cell).
func (t *fseTable) build(norm []int16, log uint) {
	t.log = log
	size := 1 << log
	high := size - 1
	var start [zstdMaxFSESymbols]int32
	total := int32(0)
	// Symbols below probability one take the last cells, in symbol order
	// from the end (RFC 8878 section 4.1.1).
	for s, n := range norm {
		start[s] = total
		if n == -1 {
			t.spread[high] = uint8(s)
			high--
			total++
		} else {
			total += int32(n)
		}
	}
	pos := 0
	step := size>>1 + size>>3 + 3
	mask := size - 1
	for s, n := range norm {
		for range max(n, 0) {
			t.spread[pos] = uint8(s)
			pos = (pos + step) & mask
			for pos > high {
				pos = (pos + step) & mask
			}
		}
	}
	// A state's cell number, plus size, goes at the next slot of its
	// symbol, so a symbol's states are in cell order as the decoder
	// numbers them.
	next := start
	for u := range size {
		s := t.spread[u]
		t.states[next[s]] = uint16(size + u)
		next[s]++
	}
	for s, n := range norm {
		sym := &t.syms[s]
		switch {
		case n == 0:
			*sym = fseSymbol{}
		case n == -1 || n == 1:
			sym.deltaNbBits = uint32(log<<16) - uint32(size)
			sym.deltaFindState = start[s] - 1
			sym.first = t.states[start[s]]
		default:
			maxBits := uint32(log) - uint32(bits.Len32(uint32(n-1))-1)
			minStatePlus := uint32(n) << maxBits
			sym.deltaNbBits = maxBits<<16 - minStatePlus
			sym.deltaFindState = start[s] - int32(n)
			sym.first = t.states[start[s]]
		}
	}
}

// encode writes the bits that take the decoder from the state for symbol
// s to state, and returns the state for s.
func (t *fseTable) encode(w *bitWriter, state uint32, s uint8) uint32 {
	sym := &t.syms[s]
	nb := (state + sym.deltaNbBits) >> 16
	w.add(uint64(state), uint(nb))
	return uint32(t.states[int32(state>>nb)+sym.deltaFindState])
}

// normalize scales counts (of symbols 0..maxSym, n in all) to sum to
// 1<<log, keeping every present symbol at one or more. It rounds each to
// the nearest and settles the difference on the most frequent symbols.
func normalize(norm []int16, counts []uint32, n uint32, log uint) {
	size := int32(1) << log
	sum := int32(0)
	largest := 0
	for s, c := range counts {
		if c == 0 {
			norm[s] = 0
			continue
		}
		v := int32((uint64(c)<<log + uint64(n)/2) / uint64(n))
		v = max(v, 1)
		norm[s] = int16(v)
		sum += v
		if c > counts[largest] {
			largest = s
		}
	}
	diff := size - sum
	if big := int32(norm[largest]); diff >= 0 || big+diff >= max(big/2, 1) {
		norm[largest] += int16(diff)
		return
	}
	// Too many rare symbols were raised to one: take the excess from
	// the largest counts, one at a time.
	for diff < 0 {
		best := -1
		for s, v := range norm {
			if v > 1 && (best < 0 || v > norm[best]) {
				best = s
			}
		}
		norm[best]--
		diff++
	}
}

// tableLog picks the accuracy of a table for n codes of at most maxSym.
func tableLog(n uint32, maxSym int, maxLog uint) uint {
	l := max(bits.Len32(n)-2, bits.Len(uint(maxSym))+1, 5)
	return min(uint(l), maxLog)
}

// appendNCount appends the description of norm (RFC 8878 section 4.1.1).
func appendNCount(dst []byte, norm []int16, log uint) []byte {
	w := bitWriter{out: dst}
	w.add(uint64(log-5), 4)
	remaining := int32(1)<<log + 1
	last := len(norm) - 1
	for norm[last] == 0 {
		last--
	}
	for s := 0; s <= last && remaining > 1; {
		n := int32(norm[s])
		v := n + 1 // -1 is written 0, 0 is 1 and so on
		nb := uint(bits.Len32(uint32(remaining)))
		low := int32(1)<<nb - 1 - remaining
		switch {
		case v < low:
			w.add(uint64(v), nb-1)
		case v < int32(1)<<(nb-1):
			w.add(uint64(v), nb)
		default:
			w.add(uint64(v+low), nb)
		}
		remaining -= max(n, -n)
		s++
		if n == 0 {
			// A zero is followed by how many more zeros there are,
			// in 2-bit groups; 3 means another group follows.
			z := 0
			for s+z <= last && norm[s+z] == 0 {
				z++
			}
			s += z
			for ; z >= 3; z -= 3 {
				w.add(3, 2)
				w.flush()
			}
			w.add(uint64(z), 2)
		}
		w.flush()
	}
	if w.nacc > 0 {
		w.out = append(w.out, byte(w.acc))
	}
	return w.out
}

// cost estimates the bits norm spends on counts, for choosing a table.
func fseCost(norm []int16, counts []uint32, log uint) float64 {
	bitsUsed := 0.0
	for s, c := range counts {
		if c == 0 {
			continue
		}
		if s >= len(norm) || norm[s] == 0 {
			return math.Inf(1)
		}
		p := float64(max(norm[s], 1)) / float64(int(1)<<log)
		bitsUsed -= float64(c) * math.Log2(p)
	}
	return bitsUsed
}

// The default distributions of RFC 8878 section 3.1.1.3.2.2.
var (
	zstdPredefLL = []int16{4, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1,
		2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 2, 1, 1, 1, 1, 1,
		-1, -1, -1, -1}
	zstdPredefML = []int16{1, 4, 3, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, -1, -1,
		-1, -1, -1, -1, -1}
	zstdPredefOF = []int16{1, 1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 1, 1, 1,
		1, 1, 1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1}
)

const (
	zstdPredefLLLog = 6
	zstdPredefMLLog = 6
	zstdPredefOFLog = 5
)

// Symbol compression modes of a sequences section.
const (
	fseModePredefined = 0
	fseModeRLE        = 1
	fseModeCompressed = 2
)

// seqCoder chooses and holds the table of one code alphabet for a block.
type seqCoder struct {
	counts [zstdMaxFSESymbols]uint32
	norm   [zstdMaxFSESymbols]int16
	table  fseTable
	mode   uint8
	rle    uint8
	// predef is the table built from the default distribution, built
	// once.
	predef      fseTable
	predefBuilt bool
}

// choose picks the cheapest mode for the codes counted, builds its table
// and appends its description to dst.
func (c *seqCoder) choose(dst []byte, n uint32, maxLog uint, predef []int16, predefLog uint) []byte {
	maxSym := 0
	distinct := 0
	for s, k := range c.counts {
		if k > 0 {
			maxSym = s
			distinct++
		}
	}
	if distinct == 1 && n > 2 {
		c.mode = fseModeRLE
		c.rle = uint8(maxSym)
		return append(dst, c.rle)
	}
	counts := c.counts[:maxSym+1]
	log := tableLog(n, maxSym, maxLog)
	norm := c.norm[:maxSym+1]
	normalize(norm, counts, n, log)
	mark := len(dst)
	dst = appendNCount(dst, norm, log)
	compressed := fseCost(norm, counts, log) + float64(8*(len(dst)-mark))
	if fseCost(predef, counts, predefLog) <= compressed {
		dst = dst[:mark]
		c.mode = fseModePredefined
		if !c.predefBuilt {
			c.predef.build(predef, predefLog)
			c.predefBuilt = true
		}
		return dst
	}
	c.mode = fseModeCompressed
	c.table.build(norm, log)
	return dst
}

// tab returns the table chosen; nil for RLE, which writes no bits.
func (c *seqCoder) tab() *fseTable {
	switch c.mode {
	case fseModePredefined:
		return &c.predef
	case fseModeCompressed:
		return &c.table
	}
	return nil
}
