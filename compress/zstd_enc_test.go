package compress

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os/exec"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
)

// Tests of our zstd encoder (zstd_dfast.go). Every frame it writes is
// decoded by klauspost's decoder, by this package's Decompress and, where
// the zstd command is installed, by the reference C decoder.

// azLetters returns n random capital letters: what Kafka's perf tool sends,
// and the benchmark's data. Huffman coding would shrink them, but there are
// almost no matches.
func azLetters(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('A' + r.IntN(26))
	}
	return b
}

// kafkaRecords returns about n bytes laid out as a batch's records
// section: varint-framed records with a key from a small set and a value
// cut from a pool of random letters, as the bench workloads produce.
func kafkaRecords(n, valueSize int) []byte {
	r := rand.New(rand.NewPCG(5, 6))
	pool := azLetters(1<<20+valueSize, 9)
	var b, rec []byte
	for i := 0; len(b) < n; i++ {
		rec = append(rec[:0], 0)
		rec = binary.AppendVarint(rec, int64(i/40))
		rec = binary.AppendVarint(rec, int64(i))
		rec = binary.AppendVarint(rec, 16)
		rec = fmt.Appendf(rec, "key-%012d", r.IntN(4096))
		rec = binary.AppendVarint(rec, int64(valueSize))
		off := i * 7919 % (1 << 20)
		rec = append(rec, pool[off:off+valueSize]...)
		rec = append(rec, 0)
		b = binary.AppendVarint(b, int64(len(rec)))
		b = append(b, rec...)
	}
	return b
}

// logLines returns n bytes of JSON log lines with ids that do not repeat.
func logLines(n int) []byte {
	r := rand.New(rand.NewPCG(3, 4))
	levels := []string{"info", "warn", "debug"}
	verbs := []string{"created", "paid", "shipped", "cancelled"}
	b := make([]byte, 0, n+200)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"ts":%d,"level":"%s","svc":"orders","msg":"order %d %s","amount":%d.%02d,"id":"%08x-%04x"}`+"\n",
			1700000000000+i*37, levels[r.IntN(3)], r.IntN(1e6), verbs[r.IntN(4)], r.IntN(1000), r.IntN(100), r.Uint32(), r.IntN(65536))
	}
	return b[:n]
}

// metricLines returns n bytes of CSV metrics.
func metricLines(n int) []byte {
	r := rand.New(rand.NewPCG(8, 9))
	b := make([]byte, 0, n+100)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, "%d,host-%02d,cpu%d,%0.3f,%0.2f,%d\n", 1700000000+i/16, r.IntN(40), r.IntN(8), r.Float64()*100, r.Float64()*10, r.IntN(1<<20))
	}
	return b[:n]
}

// structured returns n bytes mixing random runs, copies from anywhere
// earlier, runs of one byte and short-period repeats, over an alphabet of
// alpha symbols: every kind of literal and match length and offset.
func structured(n int, alpha int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, 0, n+2000)
	for len(b) < n {
		switch r.IntN(4) {
		case 0:
			for range r.IntN(300) {
				b = append(b, byte(r.IntN(alpha)))
			}
		case 1:
			if len(b) > 0 {
				off := r.IntN(len(b)) + 1
				for range r.IntN(2000) {
					b = append(b, b[len(b)-off])
				}
			}
		case 2:
			c := byte(r.IntN(256))
			for range r.IntN(500) {
				b = append(b, c)
			}
		case 3:
			for range r.IntN(50) {
				if len(b) > 8 {
					b = append(b, b[len(b)-1-r.IntN(8)])
				} else {
					b = append(b, 'x')
				}
			}
		}
	}
	return b[:n]
}

func dfastInputs() map[string][]byte {
	const block = 128 << 10
	periodic := func(n, period int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('a' + i%period)
		}
		return b
	}
	// A copy of 100 KiB of random bytes right after them: a literal run
	// and a match each longer than any length code's base.
	longCopy := randomBytes(100<<10, 21)
	longCopy = append(longCopy, longCopy...)
	// Random bytes, then a repeat of an early piece starting exactly at
	// the second block.
	atBoundary := randomBytes(block, 22)
	atBoundary = append(atBoundary, atBoundary[1000:9000]...)
	// Repeats further back than the 1 MiB window of a large input.
	far := append(randomBytes(1<<20+5000, 23), randomBytes(1000, 24)...)
	far = append(far, far[:3000]...)
	far = append(far, far[len(far)-(1<<20)+10:len(far)-(1<<20)+4000]...)
	mixed := append(randomBytes(40<<10, 25), logLines(40<<10)...)
	mixed = append(mixed, azLetters(40<<10, 26)...)
	mixed = append(mixed, make([]byte, 10<<10)...)
	mixed = append(mixed, logLines(60<<10)...)
	in := map[string][]byte{
		"empty":          {},
		"one byte":       {7},
		"hello":          []byte("hello hello hello hello hello"),
		"zeros 200KiB":   make([]byte, 200<<10),
		"period 1..40":   nil,
		"random 100KiB":  randomBytes(100<<10, 20),
		"letters 100KiB": azLetters(100<<10, 1),
		"records 100B":   kafkaRecords(64<<10, 100),
		"records 1000B":  kafkaRecords(64<<10, 1000),
		"json 300KiB":    logLines(300 << 10),
		"json records":   records(70 << 10),
		"csv 256KiB":     metricLines(256 << 10),
		"long copy":      longCopy,
		"at boundary":    atBoundary,
		"beyond window":  far,
		"mixed":          mixed,
		"3MiB":           structured(3<<20, 40, 2),
	}
	var p []byte
	for period := 1; period <= 40; period++ {
		p = append(p, periodic(97+period*13, period)...)
	}
	in["period 1..40"] = p
	for _, n := range []int{1, 2, 3, 4, 5, 8, 9, 15, 16, 17, 20, 31, 32, 63, 64, 255, 256, 257, 1023, 1024, 4095, 4096,
		block - 1, block, block + 1, 2*block + 7, 1<<16 + 255, 1<<16 + 256, 1<<20 - 1, 1 << 20, 1<<20 + 1} {
		in[fmt.Sprintf("structured %d", n)] = structured(n, 30, uint64(n))
	}
	return in
}

var (
	klausDecOnce sync.Once
	klausDec     *zstd.Decoder
)

// checkZstdFrame decodes frame three ways and compares each with want.
func checkZstdFrame(t *testing.T, frame, want []byte) {
	t.Helper()
	if len(frame) < 4 || !bytes.Equal(frame[:4], []byte{0x28, 0xb5, 0x2f, 0xfd}) {
		t.Fatalf("frame starts % x, not the zstd magic", frame[:min(4, len(frame))])
	}
	klausDecOnce.Do(func() {
		var err error
		klausDec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxWindow(1<<30))
		if err != nil {
			panic(err)
		}
	})
	got, err := klausDec.DecodeAll(frame, nil)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("klauspost decoder: err %v, output equal %v (%d bytes, want %d)", err, bytes.Equal(got, want), len(got), len(want))
	}
	got, err = Decompress(Zstd, nil, frame, max(len(want), 1))
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Decompress: err %v, output equal %v", err, bytes.Equal(got, want))
	}
}

// checkWithZstdCommand decodes frames with the reference decoder, if it is
// installed, in one run.
func checkWithZstdCommand(t *testing.T, frames, wants [][]byte) {
	t.Helper()
	path, err := exec.LookPath("zstd")
	if err != nil {
		t.Log("no zstd command: reference decoder not run")
		return
	}
	var all, want []byte
	for i := range frames {
		all = append(all, frames[i]...)
		want = append(want, wants[i]...)
	}
	cmd := exec.Command(path, "-d", "-c", "-q", "--memory=2048MB")
	cmd.Stdin = bytes.NewReader(all)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	got, err := cmd.Output()
	if err != nil {
		t.Fatalf("zstd -d: %v: %s", err, stderr.Bytes())
	}
	if !bytes.Equal(got, want) {
		// Find the frame that differs.
		for i := range frames {
			cmd := exec.Command(path, "-d", "-c", "-q")
			cmd.Stdin = bytes.NewReader(frames[i])
			one, err := cmd.Output()
			if err != nil || !bytes.Equal(one, wants[i]) {
				t.Fatalf("zstd -d of frame %d: err %v, output equal %v", i, err, bytes.Equal(one, wants[i]))
			}
		}
		t.Fatal("zstd -d output differs")
	}
}

func TestDfastRoundTrip(t *testing.T) {
	inputs := dfastInputs()
	reused := newDfastEncoder()
	var stats dfastFrameStats
	var frames, wants [][]byte
	// Twice over, so the reused encoder meets every input after every
	// other size, with stale table entries of earlier inputs.
	for pass := range 2 {
		for name, in := range inputs {
			t.Run(fmt.Sprintf("%s/%d", name, pass), func(t *testing.T) {
				prefix := []byte("prefix")
				frame := reused.EncodeAll(in, bytes.Clone(prefix))
				if !bytes.HasPrefix(frame, prefix) {
					t.Fatal("EncodeAll changed dst's contents")
				}
				frame = frame[len(prefix):]
				walkDfastFrame(t, frame, len(in), &stats)
				checkZstdFrame(t, frame, in)
				fresh := newDfastEncoder().EncodeAll(in, nil)
				walkDfastFrame(t, fresh, len(in), &stats)
				checkZstdFrame(t, fresh, in)
				frames = append(frames, frame, fresh)
				wants = append(wants, in, in)
			})
		}
	}
	checkWithZstdCommand(t, frames, wants)
}

// TestDfastManyInputs runs one encoder over many random inputs, as a
// producer's does, in sizes from bytes to megabytes.
func TestDfastManyInputs(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	e := newDfastEncoder()
	iterations := 400
	if testing.Short() {
		iterations = 100
	}
	var frames, wants [][]byte
	var frame []byte
	for i := range iterations {
		n := r.IntN(1 << (r.IntN(19) + 1))
		if i%100 == 99 {
			n = 1<<20 + r.IntN(2<<20)
		}
		in := structured(n, r.IntN(255)+1, uint64(i))
		frame = e.EncodeAll(in, frame[:0])
		checkZstdFrame(t, frame, in)
		if n < 256<<10 {
			frames = append(frames, bytes.Clone(frame))
			wants = append(wants, in)
		}
	}
	checkWithZstdCommand(t, frames, wants)
}

// TestDfastTableRestart crosses the point where positions would overflow
// and the tables are cleared.
func TestDfastTableRestart(t *testing.T) {
	e := newDfastEncoder()
	in := logLines(64 << 10)
	e.cur = uint32(1<<31 - 3*len(in)/2)
	for range 3 {
		checkZstdFrame(t, e.EncodeAll(in, nil), in)
	}
	if e.cur > uint32(4*len(in)) {
		t.Fatalf("cur = %d: the tables were not restarted", e.cur)
	}
}

// TestDfastSequenceModes checks that inputs reach each symbol compression
// mode of the sequences section (RFC 8878 section 3.1.1.3.2.1): the
// predefined tables, one repeated code and tables of our own.
func TestDfastSequenceModes(t *testing.T) {
	seen := map[uint8]bool{}
	e := newDfastEncoder()
	check := func(in []byte) {
		checkZstdFrame(t, e.EncodeAll(in, nil), in)
		if len(e.seqs) > 0 {
			seen[e.llCoder.mode] = true
			seen[e.ofCoder.mode] = true
			seen[e.mlCoder.mode] = true
		}
	}
	check(logLines(300))
	check(logLines(100 << 10))
	// The same 70-byte phrase after a count in capital letters it shares
	// no byte with: every match is the phrase and maybe the count's second
	// letter, and match lengths 67 to 82 have one code.
	var rle []byte
	r := rand.New(rand.NewPCG(1, 1))
	phrase := make([]byte, 70)
	for i := range phrase {
		phrase[i] = byte('a' + r.IntN(26))
	}
	for j := range 200 {
		rle = append(rle, byte('A'+j%26), byte('A'+j/26))
		rle = append(rle, phrase...)
	}
	check(rle)
	for _, m := range []uint8{fseModePredefined, fseModeRLE, fseModeCompressed} {
		if !seen[m] {
			t.Errorf("mode %d never used", m)
		}
	}
}

// klauspostDefault encodes as this package did before it had its own
// encoder, and as franz-go does.
func klauspostDefault(t testing.TB) *zstd.Encoder {
	e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedDefault), zstd.WithEncoderConcurrency(1),
		zstd.WithWindowSize(1<<20), zstd.WithZeroFrames(true), zstd.WithEncoderCRC(false))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func ratioCorpora() map[string]func(int) []byte {
	return map[string]func(int) []byte{
		"json logs":     logLines,
		"json records":  records,
		"csv metrics":   metricLines,
		"letters":       func(n int) []byte { return azLetters(n, 3) },
		"records 100B":  func(n int) []byte { return kafkaRecords(n, 100)[:n] },
		"records 1000B": func(n int) []byte { return kafkaRecords(n, 1000)[:n] },
		"structured":    func(n int) []byte { return structured(n, 60, 4) },
		"random":        func(n int) []byte { return randomBytes(n, 5) },
		"repetitive":    func(n int) []byte { return repetitiveText(n, 70) },
		"uuid batch":    func(n int) []byte { return uuidBatch(n, 71) },
		// A quarter of random bytes, then text: a block that starts
		// incompressible must not keep the search skipping through
		// the compressible rest (or store it all raw).
		"mixed": func(n int) []byte {
			b := append(randomBytes(n/4, 72), logLines(n/4)...)
			b = append(b, azLetters(n/4, 73)...)
			return append(b, uuidBatch(n-len(b), 74)...)
		},
	}
}

// TestDfastRatioMatchesKlauspost holds our encoder to the compression of
// klauspost's at the same level, which it replaced: at most 3% larger on
// any corpus.
func TestDfastRatioMatchesKlauspost(t *testing.T) {
	k := klauspostDefault(t)
	ours := newDfastEncoder()
	for name, gen := range ratioCorpora() {
		for _, n := range []int{16 << 10, 64 << 10, 256 << 10, 1 << 20} {
			in := gen(n)
			a, b := len(ours.EncodeAll(in, nil)), len(k.EncodeAll(in, nil))
			t.Logf("%-14s %8d bytes: ours %8d, klauspost %8d, ours/klauspost %.3f", name, n, a, b, float64(a)/float64(b))
			if a > b+b*3/100+16 {
				t.Errorf("%s, %d bytes: ours %d, klauspost %d", name, n, a, b)
			}
		}
	}
}

var (
	fuzzEncMu sync.Mutex
	fuzzEnc   = newDfastEncoder()
)

// FuzzDfastEncoder encodes the input whole with a shared encoder and a
// fresh one, then its two halves one after the other with the shared one,
// and decodes every frame.
func FuzzDfastEncoder(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(s)
	}
	f.Add(kafkaRecords(5000, 100))
	f.Add(structured(3000, 4, 1))
	f.Fuzz(func(t *testing.T, in []byte) {
		fuzzEncMu.Lock()
		defer fuzzEncMu.Unlock()
		checkZstdFrame(t, fuzzEnc.EncodeAll(in, nil), in)
		checkZstdFrame(t, newDfastEncoder().EncodeAll(in, nil), in)
		h := len(in) / 2
		checkZstdFrame(t, fuzzEnc.EncodeAll(in[:h], nil), in[:h])
		checkZstdFrame(t, fuzzEnc.EncodeAll(in[h:], nil), in[h:])
	})
}

// BenchmarkZstdEncoders compares our encoder with klauspost's at the same
// level, on warm tables. In a producer the tables are mostly cold, which
// favours ours further; the bench module measures that.
func BenchmarkZstdEncoders(b *testing.B) {
	for _, name := range []string{"json logs", "records 100B", "records 1000B", "random"} {
		for _, n := range []int{16 << 10, 64 << 10} {
			in := ratioCorpora()[name](n)
			for _, enc := range []string{"ours", "klauspost"} {
				b.Run(fmt.Sprintf("%s/%dKiB/%s", name, n>>10, enc), func(b *testing.B) {
					var encode func(src, dst []byte) []byte
					if enc == "ours" {
						encode = newDfastEncoder().EncodeAll
					} else {
						encode = klauspostDefault(b).EncodeAll
					}
					out := encode(in, nil)
					b.ReportAllocs()
					b.SetBytes(int64(len(in)))
					for b.Loop() {
						out = encode(in, out[:0])
					}
					b.ReportMetric(float64(len(in))/float64(len(out)), "ratio")
				})
			}
		}
	}
}
