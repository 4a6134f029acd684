package compress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
)

// These tests add to zstd_enc_test.go, whose helpers they use: inputs
// aimed at particular corners of the format (window edge, block edges,
// repeated offsets across raw blocks, stale tables of earlier inputs), and
// a structural check of every frame that lenient decoders would not make.

// dfastNamed is an input with a name; a slice of them keeps the order in
// which one encoder meets them fixed, so that a failure of reuse is
// reproducible.
type dfastNamed struct {
	name string
	b    []byte
}

// uuidBatch returns about n bytes of JSON values as a Kafka producer of
// events sends them: repeating field names, keys like "key-%012d",
// timestamps, UUIDs and hex ids that do not repeat.
func uuidBatch(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 77))
	b := make([]byte, 0, n+300)
	for i := 0; len(b) < n; i++ {
		b = binary.AppendVarint(b, int64(i))
		b = fmt.Appendf(b, "key-%012d", r.IntN(100000))
		b = fmt.Appendf(b, `{"event_id":"%08x-%04x-4%03x-%04x-%012x","ts":"2026-11-26T18:%02d:%02d.%03dZ","user":"u%06d","trace":"%016x","status":%d,"path":"/api/v2/orders/%d"}`,
			r.Uint32(), r.IntN(1<<16), r.IntN(1<<12), 0x8000|r.IntN(1<<14), r.Uint64()&(1<<48-1),
			i/600%60, i/10%60, r.IntN(1000), r.IntN(5000), r.Uint64(), []int{200, 200, 200, 404, 500}[r.IntN(5)], r.IntN(100000))
	}
	return b[:n]
}

// repetitiveText returns n bytes of prose built from a small vocabulary,
// the kind of text where most matches are short and near.
func repetitiveText(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 78))
	words := []string{"the", "broker", "partition", "leader", "replica", "offset", "commits", "a", "record", "batch",
		"to", "log", "segment", "while", "consumer", "group", "fetches", "from", "topic", "and", "acks"}
	b := make([]byte, 0, n+20)
	for len(b) < n {
		b = append(b, words[r.IntN(len(words))]...)
		if r.IntN(12) == 0 {
			b = append(b, ".\n"...)
		} else {
			b = append(b, ' ')
		}
	}
	return b[:n]
}

// copyAt overwrites b[at:at+n] with the bytes off before them, making a
// match of offset off that the encoder may find.
func copyAt(b []byte, at, off, n int) {
	for i := range n {
		b[at+i] = b[at+i-off]
	}
}

// dfastExtraInputs are the inputs dfastInputs lacks.
func dfastExtraInputs() []dfastNamed {
	const block = 128 << 10
	var in []dfastNamed
	add := func(name string, b []byte) { in = append(in, dfastNamed{name, b}) }

	// Every tiny size, in several kinds: the frame header, a raw block
	// and literal headers shortest.
	for n := range 21 {
		add(fmt.Sprintf("zeros %d", n), make([]byte, n))
		add(fmt.Sprintf("byte %d", n), bytes.Repeat([]byte{'A'}, n))
		add(fmt.Sprintf("random %d", n), randomBytes(n, uint64(n)))
		add(fmt.Sprintf("text %d", n), repetitiveText(n, uint64(n)))
	}
	add("byte 200KiB", bytes.Repeat([]byte{0x61}, 200<<10))

	// Runs of zeros of growing length between random bytes.
	var zr []byte
	for i := 1; len(zr) < 300<<10; i++ {
		zr = append(zr, randomBytes(1000, uint64(i))...)
		zr = append(zr, make([]byte, i*97)...)
	}
	add("zero runs", zr)

	// Each period on its own, long enough for the repeated offset to
	// carry across a block.
	for p := 1; p <= 40; p++ {
		b := make([]byte, 3000+p*50)
		copy(b, randomBytes(p, uint64(p)))
		copyAt(b, p, p, len(b)-p)
		add(fmt.Sprintf("period %d", p), b)
	}

	add("uuid batch 256KiB", uuidBatch(256<<10, 1))
	add("text 300KiB", repetitiveText(300<<10, 2))

	// Sizes on both sides of the block size and of the window, where the
	// frame header switches to a window descriptor.
	for _, n := range []int{block - 1, block, block + 1, 2*block + 7, 1<<20 - 1, 1 << 20, 1<<20 + 1} {
		add(fmt.Sprintf("uuid batch %d", n), uuidBatch(n, uint64(n)))
	}

	// Matches exactly at the window's edge of a frame larger than the
	// window (1 MiB): an offset the window allows, and ones just past it
	// that the encoder must not use.
	edge := randomBytes(1<<20+400<<10, 30)
	for k, off := range []int{1<<20 - 8, 1<<20 - 1, 1 << 20, 1<<20 + 1, 1<<20 + 8} {
		copyAt(edge, 1<<20+(50+k*60)<<10, off, 3000)
	}
	add("window edge", edge)

	// A single-segment frame of exactly 1 MiB, whose window is its size,
	// with matches reaching back nearly all of it.
	ss := randomBytes(1<<20, 31)
	for k, off := range []int{1<<20 - 5000, 1<<20 - 20000, 900 << 10, 512 << 10} {
		copyAt(ss, 1<<20-(k+1)*4096, off, 3000)
	}
	add("single segment far", ss)

	// Segments of letters, repeated at distances up to 2 MiB: some in
	// the window, some beyond it.
	far := azLetters(2<<20+500<<10, 32)
	r := rand.New(rand.NewPCG(33, 34))
	for at := 64 << 10; at+4096 < len(far); at += 8 << 10 {
		copyAt(far, at, 1+r.IntN(min(at, 2<<20)), 1000+r.IntN(3000))
	}
	add("repeats up to 2MiB back", far)

	// Compressible blocks between raw ones. The last block's first match
	// uses the offset of the first block's last match (37) as a repeated
	// offset, which is only right if the raw block between them, holding
	// a few matches too sparse to code, left the repeated offsets alone.
	rep := logLines(block)
	copy(rep[block-1000:], randomBytes(37, 40))
	copyAt(rep, block-1000+37, 37, 963)
	mid := randomBytes(block, 41)
	copyAt(mid, 60000, 1000, 50)
	rep = append(rep, mid...)
	tail := randomBytes(37, 42)
	tail = append(tail, make([]byte, 5000)...)
	copyAt(tail, 37, 37, 5000)
	rep = append(rep, tail...)
	add("repeat offset across raw block", rep)

	// A repeat that starts exactly at the second block and one that runs
	// across the boundary into the third, in compressible data.
	bb := logLines(3 * block)
	copyAt(bb, block, block-777, 20000)
	copyAt(bb, 2*block-5000, 70000, 10000)
	add("repeats at block boundaries", bb)

	// Literal runs and matches longer than a block.
	lc := randomBytes(200<<10, 43)
	lc = append(lc, lc...)
	add("200KiB random twice", lc)
	lc = randomBytes(block, 44)
	lc = append(lc, lc...)
	add("one block random twice", lc)

	// Incompressible and compressible segments of every size mixed, so
	// that blocks hold some of each.
	var mixed []byte
	for i := 0; len(mixed) < 1500<<10; i++ {
		n := 1 << (9 + r.IntN(8))
		switch i % 4 {
		case 0:
			mixed = append(mixed, randomBytes(n, uint64(i))...)
		case 1:
			mixed = append(mixed, uuidBatch(n, uint64(i))...)
		case 2:
			mixed = append(mixed, azLetters(n, uint64(i))...)
		case 3:
			mixed = append(mixed, repetitiveText(n, 5)...)
		}
	}
	add("mixed segments", mixed)

	// A block of lowercase letters, then a copy of it with every 100th
	// byte made 'Z': the matches run on by repeated offset, and every
	// literal is a 'Z', which huff0 refuses (ErrUseRLE) for RLE literals.
	rl := make([]byte, 2*block)
	for i := range block {
		rl[i] = byte('a' + r.IntN(26))
	}
	copyAt(rl, block, block, block)
	for i := block + 50; i < len(rl); i += 100 {
		rl[i] = 'Z'
	}
	add("one literal byte", rl)
	return in
}

// dfastFrameStats counts what walkDfastFrame saw.
type dfastFrameStats struct {
	blocks   [4]int // raw, RLE, compressed, reserved
	literals [4]int // raw, RLE, compressed, treeless
}

// walkDfastFrame checks the structure of a frame of n bytes against RFC
// 8878 where decoders may be lenient: the header declares n and no
// checksum or dictionary, the window is at most the encoder's 1 MiB,
// blocks stay under the block maximum and only the last is marked last,
// and each compressed block's literals header fits and is consistent. It
// also bounds the size: never more than the raw blocks would take.
func walkDfastFrame(t *testing.T, frame []byte, n int, stats *dfastFrameStats) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("frame of %d bytes: "+format, append([]any{n}, args...)...)
	}
	if len(frame) < 6 || binary.LittleEndian.Uint32(frame) != zstdFrameMagic {
		fail("no zstd magic")
	}
	fhd := frame[4]
	if fhd&0x08 != 0 || fhd&0x10 != 0 {
		fail("reserved or unused header bit set: %#02x", fhd)
	}
	if fhd&0x04 != 0 {
		fail("content checksum written; Kafka's batch CRC covers the frame")
	}
	if fhd&0x03 != 0 {
		fail("dictionary ID written")
	}
	p := 5
	single := fhd&0x20 != 0
	if !single {
		wd := frame[p]
		base := uint64(1) << (10 + wd>>3)
		if w := base + base/8*uint64(wd&7); w > zstdEncoderWindow {
			fail("window %d over %d", w, zstdEncoderWindow)
		}
		p++
	}
	fcsLen := [4]int{0, 2, 4, 8}[fhd>>6]
	if single && fcsLen == 0 {
		fcsLen = 1
	}
	if fcsLen == 0 {
		fail("no content size")
	}
	if len(frame) < p+fcsLen {
		fail("truncated header")
	}
	var fcs uint64
	switch fcsLen {
	case 1:
		fcs = uint64(frame[p])
	case 2:
		fcs = uint64(binary.LittleEndian.Uint16(frame[p:])) + 256
	case 4:
		fcs = uint64(binary.LittleEndian.Uint32(frame[p:]))
	case 8:
		fcs = binary.LittleEndian.Uint64(frame[p:])
	}
	if fcs != uint64(n) {
		fail("content size %d declared", fcs)
	}
	p += fcsLen
	header := p
	nblocks := 0
	for last := false; !last; {
		if len(frame) < p+3 {
			fail("truncated block header at %d", p)
		}
		h := uint32(frame[p]) | uint32(frame[p+1])<<8 | uint32(frame[p+2])<<16
		p += 3
		last = h&1 != 0
		typ, size := (h>>1)&3, int(h>>3)
		stats.blocks[typ]++
		nblocks++
		if size > zstdMaxBlock {
			fail("block %d of type %d is %d bytes", nblocks, typ, size)
		}
		stored := size
		if typ == 1 {
			stored = 1
		}
		if len(frame) < p+stored {
			fail("block %d truncated", nblocks)
		}
		switch typ {
		case 3:
			fail("reserved block type")
		case 2:
			walkDfastBlock(t, frame[p:p+size], stats)
		}
		p += stored
	}
	if p != len(frame) {
		fail("%d bytes after the last block", len(frame)-p)
	}
	if want := (n + zstdMaxBlock - 1) / zstdMaxBlock; n > 0 && nblocks > want {
		fail("%d blocks, %d would do", nblocks, want)
	}
	if most := header + n + 3*max(1, (n+zstdMaxBlock-1)/zstdMaxBlock); len(frame) > most {
		fail("%d bytes, more than the %d of raw blocks", len(frame), most)
	}
}

// walkDfastBlock checks a compressed block's literals section header and
// sequence count (RFC 8878 sections 3.1.1.3.1.1 and 3.1.1.3.2.1).
func walkDfastBlock(t *testing.T, b []byte, stats *dfastFrameStats) {
	t.Helper()
	if len(b) == 0 {
		t.Fatal("empty compressed block")
	}
	typ, sf := b[0]&3, (b[0]>>2)&3
	stats.literals[typ]++
	var hlen, regen, stored int
	le := func(k int) uint64 {
		var v uint64
		for i := range k {
			v |= uint64(b[i]) << (8 * i)
		}
		return v
	}
	if typ < 2 {
		switch sf {
		case 0, 2:
			hlen, regen = 1, int(b[0]>>3)
		case 1:
			hlen = 2
		case 3:
			hlen = 3
		}
		if len(b) < hlen {
			t.Fatal("truncated literals header")
		}
		if hlen > 1 {
			regen = int(le(hlen) >> 4)
		}
		stored = regen
		if typ == 1 {
			stored = 1
		}
	} else {
		bitsPer := [4]int{10, 10, 14, 18}[sf]
		hlen = [4]int{3, 3, 4, 5}[sf]
		if len(b) < hlen {
			t.Fatal("truncated literals header")
		}
		h := le(hlen) >> 4
		regen, stored = int(h&(1<<bitsPer-1)), int(h>>bitsPer)
		if sf == 0 && regen > 1023 {
			t.Fatalf("single-stream literals of %d bytes", regen)
		}
		if sf != 0 && regen < 6 {
			t.Fatalf("4-stream literals of %d bytes", regen)
		}
		if stored >= regen {
			t.Fatalf("Huffman-coded literals of %d bytes take %d", regen, stored)
		}
	}
	if regen > zstdMaxBlock {
		t.Fatalf("%d literals in a block", regen)
	}
	p := hlen + stored
	if len(b) < p+1 {
		t.Fatalf("literals section of %d bytes in a block of %d, no sequence count", p, len(b))
	}
	nseq, c := int(b[p]), 1
	switch {
	case nseq == 255:
		if len(b) < p+3 {
			t.Fatal("truncated sequence count")
		}
		nseq, c = int(b[p+1])+int(b[p+2])<<8+0x7F00, 3
	case nseq >= 128:
		if len(b) < p+2 {
			t.Fatal("truncated sequence count")
		}
		nseq, c = (nseq-128)<<8+int(b[p+1]), 2
	}
	p += c
	if nseq == 0 {
		// libzstd refuses anything after a zero count.
		if p != len(b) {
			t.Fatalf("%d bytes after zero sequences", len(b)-p)
		}
		return
	}
	if len(b) < p+1 {
		t.Fatal("no symbol compression modes")
	}
	if b[p]&3 != 0 {
		t.Fatalf("reserved bits of the modes byte set: %#02x", b[p])
	}
}

// encodeChecked encodes in with e into a dst with a prefix and spare
// capacity, checks that the prefix survives and the frame's structure and
// contents, and returns the frame.
func encodeChecked(t *testing.T, e *dfastEncoder, in []byte, stats *dfastFrameStats) []byte {
	t.Helper()
	prefix := []byte("batch header")
	dst := make([]byte, len(prefix), len(prefix)+len(in)/2+64)
	copy(dst, prefix)
	out := e.EncodeAll(in, dst)
	if !bytes.Equal(out[:len(prefix)], prefix) {
		t.Fatal("EncodeAll changed dst's prefix")
	}
	frame := out[len(prefix):]
	walkDfastFrame(t, frame, len(in), stats)
	checkZstdFrame(t, frame, in)
	return frame
}

// TestDfastRoundTripCorners runs one encoder over the corner inputs
// forwards and then backwards, so that each meets the tables left by
// inputs both smaller and larger, and a fresh encoder over each. Every
// frame is decoded by klauspost, Decompress and the zstd command.
func TestDfastRoundTripCorners(t *testing.T) {
	inputs := dfastExtraInputs()
	reused := newDfastEncoder()
	var stats dfastFrameStats
	var frames, wants [][]byte
	order := slices.Clone(inputs)
	slices.Reverse(order)
	for _, in := range append(slices.Clone(inputs), order...) {
		t.Run(in.name, func(t *testing.T) {
			frames = append(frames, encodeChecked(t, reused, in.b, &stats))
			wants = append(wants, in.b)
		})
	}
	for _, in := range inputs {
		t.Run(in.name+"/fresh", func(t *testing.T) {
			frames = append(frames, encodeChecked(t, newDfastEncoder(), in.b, &stats))
			wants = append(wants, in.b)
		})
	}
	t.Logf("blocks raw/RLE/compressed: %v; literals raw/RLE/Huffman/treeless: %v", stats.blocks[:3], stats.literals)
	// The inputs are meant to reach these; an encoder that lost one
	// would leave part of the format untested.
	if stats.blocks[0] == 0 || stats.blocks[2] == 0 {
		t.Errorf("raw and compressed blocks not both written: %v", stats.blocks)
	}
	for typ := range 3 {
		if stats.literals[typ] == 0 {
			t.Errorf("no literals of type %d", typ)
		}
	}
	if !t.Failed() {
		checkWithZstdCommand(t, frames, wants)
	}
}

// TestDfastStaleTables encodes inputs whose content the tables already
// hold from earlier inputs, at other positions: an entry left by an
// earlier input has the right bytes, so only the encoder's position check
// keeps a match from reaching before the input's start.
func TestDfastStaleTables(t *testing.T) {
	x := uuidBatch(300<<10, 50)
	e := newDfastEncoder()
	var frames, wants [][]byte
	var stats dfastFrameStats
	for _, in := range [][]byte{
		x, x, x[:len(x)/2], x[len(x)/2:], x[1000:1100], x[777:], x[:5000], x,
		// Smaller tables after larger, then larger again.
		x[100:300], x[200 : 200+64<<10], x[150:],
		// Shifted by one byte, so that hashes agree but positions do not.
		x[1:], x[2 : 2+128<<10],
	} {
		frames = append(frames, bytes.Clone(encodeChecked(t, e, in, &stats)))
		wants = append(wants, in)
	}
	checkWithZstdCommand(t, frames, wants)
}

// TestDfastFarRepeatFound checks that our smaller tables still find a
// repeat far back in the window, which klauspost's finds: 900 KiB of
// letters twice over should cost about one copy.
func TestDfastFarRepeatFound(t *testing.T) {
	a := azLetters(900<<10, 60)
	in := append(bytes.Clone(a), a...)
	ours := len(newDfastEncoder().EncodeAll(in, nil))
	theirs := len(klauspostDefault(t).EncodeAll(in, nil))
	t.Logf("%d bytes: ours %d, klauspost %d", len(in), ours, theirs)
	if ours > theirs+theirs*3/100+16 {
		t.Errorf("ours %d bytes, klauspost %d", ours, theirs)
	}
}

var (
	fuzzPairMu  sync.Mutex
	fuzzPairEnc = newDfastEncoder()
)

// FuzzDfastEncoderPair encodes two inputs one after the other with a
// shared encoder, the second made of the first's bytes and its own, so
// that stale table entries match; every frame also goes through the
// structural check.
func FuzzDfastEncoderPair(f *testing.F) {
	f.Add([]byte("hello, kafka hello"), []byte("kafka hello, kafka"))
	f.Add(uuidBatch(3000, 1), uuidBatch(2000, 2))
	f.Add(repetitiveText(2000, 3), []byte{})
	f.Add(randomBytes(300, 4), bytes.Repeat([]byte{'x'}, 500))
	f.Fuzz(func(t *testing.T, a, b []byte) {
		fuzzPairMu.Lock()
		defer fuzzPairMu.Unlock()
		var stats dfastFrameStats
		second := append(append(bytes.Clone(b), a...), b...)
		encodeChecked(t, fuzzPairEnc, a, &stats)
		encodeChecked(t, fuzzPairEnc, second, &stats)
		encodeChecked(t, newDfastEncoder(), second, &stats)
	})
}
