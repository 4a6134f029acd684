package compress

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

// codecs lists every codec with the levels the tests cover, from the edges
// of each KIP-390 range to the special cases (gzip -1, lz4 9, zstd 0).
var codecs = []struct {
	codec  Codec
	levels []int
}{
	{None, []int{DefaultLevel}},
	{Gzip, []int{DefaultLevel, -1, 1, 5, 9}},
	{Snappy, []int{DefaultLevel}},
	{LZ4, []int{DefaultLevel, 1, 8, 9, 10, 17}},
	{Zstd, []int{DefaultLevel, -131072, -1, 0, 1, 3, 6, 10, 22}},
}

func levelName(level int) string {
	if level == DefaultLevel {
		return "default"
	}
	return fmt.Sprint(level)
}

// randomBytes returns n incompressible bytes, the same for the same seed.
func randomBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// records returns n bytes of something like a batch of JSON records: mostly
// repetitive text with varying numbers, which compresses about as well as
// typical Kafka payloads.
func records(n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, 0, n+256)
	for i := 0; len(b) < n; i++ {
		b = fmt.Appendf(b, `{"id":%d,"user":"user-%d","event":"page_view","path":"/products/%d","ts":%d,"ok":true}`+"\n",
			i, r.IntN(1000), r.IntN(50), 1700000000000+int64(i)*17)
	}
	return b[:n]
}

// testInputs are the payloads every codec round-trips, including sizes on
// both sides of the snappy (32 KiB) and lz4 (64 KiB) block boundaries.
func testInputs() map[string][]byte {
	return map[string][]byte{
		"empty":        {},
		"one byte":     {42},
		"small":        []byte("hello, kafka"),
		"32KiB":        records(32 << 10),
		"32KiB+1":      records(32<<10 + 1),
		"64KiB":        records(64 << 10),
		"64KiB+1":      records(64<<10 + 1),
		"records 1MiB": records(1 << 20),
		"random 1MiB":  randomBytes(1<<20, 7),
		"zeros 300KiB": make([]byte, 300<<10),
	}
}

func mustCompress(t testing.TB, c Codec, level int, src []byte) []byte {
	t.Helper()
	comp, err := NewCompressor(c, level)
	require.NoError(t, err)
	out, err := comp.Compress(nil, src)
	require.NoError(t, err)
	return out
}

// allocatedDuring reports how many bytes the heap handed out while f ran.
func allocatedDuring(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}
