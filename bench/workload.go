// Package bench runs the same produce workloads through this module's
// producer and through franz-go's kgo, configured alike, so their speed can
// be compared on one machine against one broker; IBM/sarama and
// segmentio/kafka-go can join the comparison (others.go). It is a module of
// its own so that these clients and kfake stay out of the library's
// dependencies.
//
// The workloads are those of the project's speed issue:
//
//	W1: 100-byte values, no key, acks=1, no compression, linger 5 ms,
//	    64 KiB batches, idempotence off
//	W2: W1 with keys (murmur2) and lz4
//	W3: W2 with 1,000-byte values and zstd
//	W4: the producer's defaults (acks=all, idempotent, linger 0,
//	    16 KiB batches), 100-byte values
//
// Use cmd/compare for the side-by-side table (each run in its own process,
// against a broker in another process), or `go test -bench .` here for
// in-process figures benchstat can read.
package bench

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/kpgo/kafka"
)

// Topic is the topic the workloads produce to; Partitions is its size.
const (
	Topic      = "bench"
	Partitions = 12
	Brokers    = 3
)

// Client names.
const (
	Ours    = "ours"
	Franz   = "franz"
	Sarama  = "sarama"
	KafkaGo = "kafka-go"
)

// Clients lists the clients compared by default, in the order runs
// alternate between them; AllClients adds sarama and kafka-go.
var (
	Clients    = []string{Ours, Franz}
	AllClients = []string{Ours, Franz, Sarama, KafkaGo}
)

var errNoOthers = errors.New("sarama and kafka-go are built with -tags others only")

// Built reports whether client kind is in this binary: sarama and
// kafka-go need -tags others.
func Built(kind string) error {
	if (kind == Sarama || kind == KafkaGo) && !othersBuilt {
		return errNoOthers
	}
	return nil
}

// Workload is one producer configuration and record shape.
type Workload struct {
	Name        string
	Desc        string
	ValueSize   int
	Keyed       bool
	Compression string // "none", "lz4" or "zstd"
	Acks        int    // kafka.AcksLeader or kafka.AcksAll
	Idempotent  bool
	Linger      time.Duration
	BatchBytes  int
	// Defaults marks the workload that runs our producer with no options
	// but the bootstrap servers; the fields above then restate those
	// defaults for franz-go.
	Defaults bool
	// RecordScale scales the record count given on the command line, so
	// a workload with large values runs about as long as the others.
	RecordScale float64
}

// Workloads are W1 to W4 of the speed issue.
var Workloads = []Workload{
	{Name: "W1", Desc: "100-byte values, no key, acks=1, no compression, linger 5ms, 64KiB batches, idempotence off",
		ValueSize: 100, Compression: "none", Acks: kafka.AcksLeader, Linger: 5 * time.Millisecond, BatchBytes: 64 << 10, RecordScale: 1},
	{Name: "W2", Desc: "W1 keyed (murmur2), lz4",
		ValueSize: 100, Keyed: true, Compression: "lz4", Acks: kafka.AcksLeader, Linger: 5 * time.Millisecond, BatchBytes: 64 << 10, RecordScale: 1},
	{Name: "W3", Desc: "1000-byte values, keyed, zstd, otherwise W1",
		ValueSize: 1000, Keyed: true, Compression: "zstd", Acks: kafka.AcksLeader, Linger: 5 * time.Millisecond, BatchBytes: 64 << 10, RecordScale: 0.25},
	{Name: "W4", Desc: "defaults (acks=all, idempotent, linger 0, 16KiB batches), 100-byte values",
		ValueSize: 100, Compression: "none", Acks: kafka.AcksAll, Idempotent: true, BatchBytes: 16384, Defaults: true, RecordScale: 1},
}

// Lookup returns the workload named name (case-insensitive).
func Lookup(name string) (Workload, bool) {
	for _, w := range Workloads {
		if strings.EqualFold(w.Name, name) {
			return w, true
		}
	}
	return Workload{}, false
}

// bufferBytes is buffer_memory's default, given to franz-go too so both
// clients buffer the same bytes.
const bufferBytes = 32 << 20

// data holds the keys and values the workloads draw from: random capital
// letters, as Kafka's perf tool sends, so compression has work to do but
// not a trivial one.
type data struct {
	pool []byte
	keys [][]byte
}

const (
	poolSize = 1 << 20
	numKeys  = 4096
)

func newData(valueSize int) *data {
	rng := rand.New(rand.NewPCG(1, 2))
	d := &data{pool: make([]byte, poolSize+valueSize)}
	for i := range d.pool {
		d.pool[i] = byte('A' + rng.IntN(26))
	}
	d.keys = make([][]byte, numKeys)
	for i := range d.keys {
		d.keys[i] = fmt.Appendf(nil, "key-%012d", rng.Uint64N(1e12))
	}
	return d
}

// value returns record i's value: a window of the pool at a position
// that moves by a prime stride, so neighbouring records differ.
func (d *data) value(i int64, size int) []byte {
	off := int(uint64(i) * 7919 % poolSize)
	return d.pool[off : off+size : off+size]
}

func (d *data) key(i int64) []byte { return d.keys[i%numKeys] }

// Client produces a workload's records and waits for them.
type Client interface {
	// Produce sends n more records and returns once each is acknowledged.
	// It fails if any record failed.
	Produce(ctx context.Context, n int64) error
	Close()
}

// NewClient starts client kind (one of AllClients) for w and sends one
// record through it, so connections and metadata are ready before
// anything is measured.
func NewClient(ctx context.Context, kind string, w Workload, bootstrap []string) (Client, error) {
	var c Client
	var err error
	switch kind {
	case Ours:
		c, err = newOurs(w, bootstrap)
	case Franz:
		c, err = newFranz(w, bootstrap)
	case Sarama:
		c, err = newSarama(w, bootstrap)
	case KafkaGo:
		c, err = newKafkaGo(w, bootstrap)
	default:
		return nil, fmt.Errorf("unknown client %q (want one of %s)", kind, strings.Join(AllClients, ", "))
	}
	if err != nil {
		return nil, err
	}
	if err := c.Produce(ctx, 1); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: warm-up record: %w", kind, err)
	}
	return c, nil
}

// tracker counts acknowledged records and keeps the first error. Each
// callback costs one atomic add; the caller learns of the last one through
// a channel, so the harness adds as little as it can to either client's
// figures.
type tracker struct {
	// The pads keep acked, which the client's goroutines add to, off
	// the cache lines of the producing loop's variables: sharing one
	// made each side stall on the other and inflated both clients'
	// figures.
	_      [64]byte
	acked  atomic.Int64
	_      [64]byte
	target int64 // set before the records it counts are produced
	all    chan struct{}
	first  atomic.Pointer[error]
}

// expect prepares for n more acknowledgements; it must be called before
// the records are produced, and not while earlier ones are in flight.
func (t *tracker) expect(n int64) {
	t.target = t.acked.Load() + n
	t.all = make(chan struct{})
}

func (t *tracker) done(err error) {
	if err != nil {
		t.fail(err)
	}
	if t.acked.Add(1) == t.target {
		close(t.all)
	}
}

// fail is apart from done so that err escapes only when there is one.
func (t *tracker) fail(err error) { t.first.CompareAndSwap(nil, &err) }

func (t *tracker) wait(ctx context.Context) error {
	select {
	case <-t.all:
	case <-ctx.Done():
		return ctx.Err()
	}
	if e := t.first.Load(); e != nil {
		return *e
	}
	return nil
}

type ours struct {
	w    Workload
	p    *kafka.Producer
	d    *data
	next int64
	t    tracker
	cb   func(kafka.RecordMetadata, error)
}

func newOurs(w Workload, bootstrap []string) (*ours, error) {
	opts := []kafka.Option{kafka.BootstrapServers(bootstrap...)}
	if !w.Defaults {
		opts = append(opts,
			kafka.Acks(w.Acks),
			kafka.EnableIdempotence(w.Idempotent),
			kafka.Linger(w.Linger),
			kafka.BatchSize(w.BatchBytes),
			kafka.CompressionType(w.Compression),
		)
	}
	p, err := kafka.NewProducer(opts...)
	if err != nil {
		return nil, err
	}
	c := &ours{w: w, p: p, d: newData(w.ValueSize)}
	c.cb = func(_ kafka.RecordMetadata, err error) { c.t.done(err) }
	return c, nil
}

// Produce uses the callback form, which allocates nothing per record.
func (c *ours) Produce(ctx context.Context, n int64) error {
	rec := kafka.Record{Topic: Topic}
	c.t.expect(n)
	for end := c.next + n; c.next < end; c.next++ {
		rec.Value = c.d.value(c.next, c.w.ValueSize)
		if c.w.Keyed {
			rec.Key = c.d.key(c.next)
		}
		if err := c.p.Produce(ctx, rec, c.cb); err != nil {
			// Records in flight are left to Close.
			return err
		}
	}
	if err := c.p.Flush(ctx); err != nil {
		return err
	}
	return c.t.wait(ctx)
}

func (c *ours) Close() { _ = c.p.Close(context.Background()) }

type franz struct {
	w       Workload
	cl      *kgo.Client
	d       *data
	next    int64
	t       tracker
	promise func(*kgo.Record, error)
}

// franzOptions configures kgo as our producer is configured for w.
func franzOptions(w Workload, bootstrap []string) []kgo.Opt {
	acks := kgo.LeaderAck()
	if w.Acks == kafka.AcksAll {
		acks = kgo.AllISRAcks()
	}
	codec := kgo.NoCompression()
	switch w.Compression {
	case "lz4":
		codec = kgo.Lz4Compression()
	case "zstd":
		codec = kgo.ZstdCompression()
	}
	opts := []kgo.Opt{
		kgo.SeedBrokers(bootstrap...),
		kgo.RequiredAcks(acks),
		kgo.ProducerLinger(w.Linger),
		kgo.ProducerBatchMaxBytes(int32(w.BatchBytes)),
		// franz-go prefers snappy by default; name the codec alone.
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedBytes(bufferBytes),
	}
	if !w.Idempotent {
		// Without idempotence franz-go allows one request in flight
		// per broker unless told otherwise; ours allows five.
		opts = append(opts, kgo.DisableIdempotentWrite(), kgo.MaxProduceRequestsInflightPerBroker(5))
	}
	if w.Keyed {
		// murmur2 over all partitions, as Kafka's default partitioner.
		opts = append(opts, kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))
	}
	return opts
}

func newFranz(w Workload, bootstrap []string) (*franz, error) {
	cl, err := kgo.NewClient(franzOptions(w, bootstrap)...)
	if err != nil {
		return nil, err
	}
	c := &franz{w: w, cl: cl, d: newData(w.ValueSize)}
	c.promise = func(_ *kgo.Record, err error) { c.t.done(err) }
	return c, nil
}

// Produce allocates a kgo.Record per record, as kgo's API requires: the
// client owns the record until its promise runs.
func (c *franz) Produce(ctx context.Context, n int64) error {
	c.t.expect(n)
	for end := c.next + n; c.next < end; c.next++ {
		r := &kgo.Record{Topic: Topic, Value: c.d.value(c.next, c.w.ValueSize)}
		if c.w.Keyed {
			r.Key = c.d.key(c.next)
		}
		c.cl.Produce(ctx, r, c.promise)
	}
	if err := c.cl.Flush(ctx); err != nil {
		return err
	}
	return c.t.wait(ctx)
}

func (c *franz) Close() { c.cl.Close() }

// Result is one measured run.
type Result struct {
	Client   string        `json:"client"`
	Workload string        `json:"workload"`
	Records  int64         `json:"records"`
	Bytes    int64         `json:"bytes"` // keys and values
	Elapsed  time.Duration `json:"elapsed_ns"`
	CPU      time.Duration `json:"cpu_ns"` // user+system of this process over the run
	Mallocs  uint64        `json:"mallocs"`
	AllocB   uint64        `json:"alloc_bytes"`
	MaxRSSKB int64         `json:"max_rss_kb"`
}

// RecordsPerSec and the rest derive the table's figures.
func (r Result) RecordsPerSec() float64 { return float64(r.Records) / r.Elapsed.Seconds() }

// MBPerSec is in MiB/s, as Kafka's perf tool prints MB/sec.
func (r Result) MBPerSec() float64 { return float64(r.Bytes) / r.Elapsed.Seconds() / (1 << 20) }

// CPUPerRecord is client CPU nanoseconds per record.
func (r Result) CPUPerRecord() float64 { return float64(r.CPU.Nanoseconds()) / float64(r.Records) }

// AllocsPerRecord is heap allocations per record.
func (r Result) AllocsPerRecord() float64 { return float64(r.Mallocs) / float64(r.Records) }

// BytesPerRecord is heap bytes allocated per record.
func (r Result) BytesPerRecord() float64 { return float64(r.AllocB) / float64(r.Records) }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func maxRSSKB() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return int64(ru.Maxrss) // KiB on Linux
}

// Measure produces n records through c and reports time, this process's
// CPU and its allocations over them. It is meant for a process that runs
// nothing else, as cmd/compare's client children do.
func Measure(ctx context.Context, c Client, kind string, w Workload, n int64) (Result, error) {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	start := time.Now()
	err := c.Produce(ctx, n)
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	runtime.ReadMemStats(&after)
	if err != nil {
		return Result{}, err
	}
	per := int64(w.ValueSize)
	if w.Keyed {
		per += int64(len("key-000000000000"))
	}
	return Result{
		Client: kind, Workload: w.Name, Records: n, Bytes: n * per,
		Elapsed: elapsed, CPU: cpu,
		Mallocs: after.Mallocs - before.Mallocs, AllocB: after.TotalAlloc - before.TotalAlloc,
		MaxRSSKB: maxRSSKB(),
	}, nil
}

// Median returns the median of xs (the mean of the middle two for an
// even count).
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
