package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cluster starts an in-process three-broker cluster with the given topics
// (name → partitions) and no topic auto-creation.
func cluster(t *testing.T, topics map[string]int32) []string {
	t.Helper()
	opts := []kfake.Opt{kfake.NumBrokers(3)}
	for name, n := range topics {
		opts = append(opts, kfake.SeedTopics(n, name))
	}
	c, err := kfake.NewCluster(opts...)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

type result struct {
	code           int
	stdout, stderr string
}

// runTool runs the command with stdin and args, with a generous bound
// so that a hang fails the test instead of the whole run.
func runTool(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code := run(ctx, args, strings.NewReader(stdin), &out, &errb)
	require.NoError(t, ctx.Err(), "run did not finish in time; stderr:\n%s", errb.String())
	return result{code, out.String(), errb.String()}
}

// want is a record as the consumer should see it.
type want struct {
	key, value []byte // nil is null
	headers    []kgo.RecordHeader
}

func str(s string) []byte { return []byte(s) }

// located is where --print-offsets said a line went.
type located struct {
	partition int32
	offset    int64
}

// parseOffsets reads --print-offsets output: one "topic partition offset"
// line per acknowledged record.
func parseOffsets(t *testing.T, topic, stdout string) []located {
	t.Helper()
	var out []located
	for _, l := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if l == "" {
			continue
		}
		f := strings.Fields(l)
		require.Len(t, f, 3, "offset line %q", l)
		require.Equal(t, topic, f[0])
		p, err := strconv.ParseInt(f[1], 10, 32)
		require.NoError(t, err)
		o, err := strconv.ParseInt(f[2], 10, 64)
		require.NoError(t, err)
		out = append(out, located{int32(p), o})
	}
	return out
}

// consumeAll reads the whole topic with kgo: every record up to each
// partition's end offset, so that a missing or an extra record fails.
func consumeAll(t *testing.T, addrs []string, topic string) []*kgo.Record {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	require.NoError(t, err)
	defer cl.Close()

	total := int64(0)
	for _, end := range endOffsets(ctx, t, cl, topic) {
		total += end
	}
	var recs []*kgo.Record
	for int64(len(recs)) < total {
		fs := cl.PollFetches(ctx)
		require.NoError(t, ctx.Err(), "consumed %d of %d records", len(recs), total)
		for _, fe := range fs.Errors() {
			t.Fatalf("fetch %s-%d: %v", fe.Topic, fe.Partition, fe.Err)
		}
		recs = append(recs, fs.Records()...)
	}
	require.Len(t, recs, int(total))
	return recs
}

// waitEndOffset waits until topic's partitions hold n records in all.
func waitEndOffset(t *testing.T, addrs []string, topic string, n int64) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	require.NoError(t, err)
	defer cl.Close()
	for {
		total := int64(0)
		for _, end := range endOffsets(ctx, t, cl, topic) {
			total += end
		}
		if total >= n {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s holds %d records, want %d", topic, total, n)
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// endOffsets asks the partitions' leaders for their end offsets.
func endOffsets(ctx context.Context, t *testing.T, cl *kgo.Client, topic string) []int64 {
	t.Helper()
	mreq := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	mreq.Topics = append(mreq.Topics, mt)
	mresp, err := mreq.RequestWith(ctx, cl)
	require.NoError(t, err)
	require.Len(t, mresp.Topics, 1)
	n := len(mresp.Topics[0].Partitions)

	req := kmsg.NewPtrListOffsetsRequest()
	rt := kmsg.NewListOffsetsRequestTopic()
	rt.Topic = topic
	for p := range n {
		rp := kmsg.NewListOffsetsRequestTopicPartition()
		rp.Partition = int32(p)
		rp.Timestamp = -1 // the end
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	resp, err := req.RequestWith(ctx, cl)
	require.NoError(t, err)
	ends := make([]int64, n)
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			require.Zero(t, rp.ErrorCode, "ListOffsets %s-%d", topic, rp.Partition)
			ends[rp.Partition] = rp.Offset
		}
	}
	return ends
}

// checkRecord compares a consumed record with what was meant, byte for
// byte, null and empty told apart.
func checkRecord(t *testing.T, w want, r *kgo.Record, what string) {
	t.Helper()
	require.Equal(t, w.key == nil, r.Key == nil, "%s: key null-ness", what)
	require.Equal(t, w.key, nonNil(r.Key, w.key), "%s: key", what)
	require.Equal(t, w.value == nil, r.Value == nil, "%s: value null-ness", what)
	require.Equal(t, w.value, nonNil(r.Value, w.value), "%s: value", what)
	require.Len(t, r.Headers, len(w.headers), "%s: headers", what)
	for i, h := range w.headers {
		require.Equal(t, h.Key, r.Headers[i].Key, "%s: header %d key", what, i)
		require.Equal(t, h.Value == nil, r.Headers[i].Value == nil, "%s: header %d value null-ness", what, i)
		require.Equal(t, h.Value, nonNil(r.Headers[i].Value, h.Value), "%s: header %d value", what, i)
	}
}

// nonNil makes an empty got comparable with an empty want (kgo may
// decode an empty field as a zero-length slice of either kind).
func nonNil(got, want []byte) []byte {
	if len(got) == 0 && want != nil {
		return want[:0:0]
	}
	return got
}

// checkByOffsets checks that line i of the input (counting only sent
// lines) is the record --print-offsets located for it.
func checkByOffsets(t *testing.T, addrs []string, topic, stdout string, wants []want) []*kgo.Record {
	t.Helper()
	locs := parseOffsets(t, topic, stdout)
	require.Len(t, locs, len(wants), "one offset line per record")
	recs := consumeAll(t, addrs, topic)
	require.Len(t, recs, len(wants))
	at := map[located]*kgo.Record{}
	for _, r := range recs {
		at[located{r.Partition, r.Offset}] = r
	}
	for i, w := range wants {
		r := at[locs[i]]
		require.NotNil(t, r, "record %d: nothing at %v", i, locs[i])
		checkRecord(t, w, r, fmt.Sprintf("record %d", i))
	}
	return recs
}

func TestKeysHeadersNullMarker(t *testing.T) {
	addrs := cluster(t, map[string]int32{"lines": 3})
	input := strings.Join([]string{
		"h1:v1,h2:v2\tk1\tvalue one",
		"\tk2\tno headers",                // empty header list
		"NULL\tk3\tnull header list",      // the whole list is null
		"a:NULL,b:\tk4\tv",                // null and empty header values
		"c:x:y,\tk5\tvalue\twith\ttabs",   // header value holds ':'; trailing ',' dropped
		"d:1\tNULL\tnull key",             // null key
		"e:2\tk7\tNULL",                   // null value
		"f:3\t\t",                         // empty key and empty value
		"g:4\tk9\tbytes \xff\xfe\x00 end", // not UTF-8, and a NUL
		"h:5\tk10\tcrlf\r",                // a Windows line ending is not data
		"i:6\tk11\tlast line, no newline",
	}, "\n")
	res := runTool(t, input,
		"--bootstrap-server", strings.Join(addrs, ","), "--topic=lines",
		"--property", "parse.key=true", "--property=parse.headers=true",
		"--property", "null.marker=NULL", "--print-offsets")
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	require.Empty(t, res.stderr)

	h := func(k, v string) kgo.RecordHeader { return kgo.RecordHeader{Key: k, Value: []byte(v)} }
	wants := []want{
		{str("k1"), str("value one"), []kgo.RecordHeader{h("h1", "v1"), h("h2", "v2")}},
		{str("k2"), str("no headers"), nil},
		{str("k3"), str("null header list"), nil},
		{str("k4"), str("v"), []kgo.RecordHeader{{Key: "a"}, h("b", "")}},
		{str("k5"), str("value\twith\ttabs"), []kgo.RecordHeader{h("c", "x:y")}},
		{nil, str("null key"), []kgo.RecordHeader{h("d", "1")}},
		{str("k7"), nil, []kgo.RecordHeader{h("e", "2")}},
		{str(""), str(""), []kgo.RecordHeader{h("f", "3")}},
		{str("k9"), str("bytes \xff\xfe\x00 end"), []kgo.RecordHeader{h("g", "4")}},
		{str("k10"), str("crlf"), []kgo.RecordHeader{h("h", "5")}},
		{str("k11"), str("last line, no newline"), []kgo.RecordHeader{h("i", "6")}},
	}
	checkByOffsets(t, addrs, "lines", res.stdout, wants)
}

func TestCustomSeparatorsAndReaderConfig(t *testing.T) {
	addrs := cluster(t, map[string]int32{"sep": 2})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "reader.properties")
	// Separators from a file, with Java escapes; --property wins over it.
	require.NoError(t, os.WriteFile(cfg, []byte("parse.key = true\nkey.separator = \\u0020=>\\u0020\nparse.headers=true\nheaders.delimiter=|\nheaders.separator=;\nheaders.key.separator==\nnull.marker=-\n"), 0o600))
	// The file says headers.delimiter=|, --property says ||: with the
	// file's, the first key would be "|key".
	input := "x=1;y=2||key => value => more\n-||- => v\nz=-||k => -\n"
	res := runTool(t, input, "--bootstrap-server", addrs[0], "--topic", "sep",
		"--reader-config", cfg, "--property", "headers.delimiter=||", "--property", "parse.keys=true", "--print-offsets")
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	// An unknown reader property is ignored, as Kafka passes it on to a
	// custom reader, but a typo should not go unnoticed.
	require.Equal(t, "kafka-console-producer: warning: line-reader property \"parse.keys\" is not known; ignored\n", res.stderr)
	wants := []want{
		{str("key"), str("value => more"), []kgo.RecordHeader{{Key: "x", Value: str("1")}, {Key: "y", Value: str("2")}}},
		{nil, str("v"), nil},
		{str("k"), nil, []kgo.RecordHeader{{Key: "z"}}},
	}
	checkByOffsets(t, addrs, "sep", res.stdout, wants)
}

func TestCodecs(t *testing.T) {
	// Kafka's attribute codes, as kgo reports them per record.
	codes := map[string]uint8{"none": 0, "gzip": 1, "snappy": 2, "lz4": 3, "zstd": 4}
	topics := map[string]int32{}
	for name := range codes {
		topics["codec-"+name] = 2
	}
	topics["codec-default-gzip"] = 2
	addrs := cluster(t, topics)
	var lines []string
	var wants []want
	for i := range 200 {
		// Repetitive values so that every codec really compresses.
		v := fmt.Sprintf("record %03d %s", i, strings.Repeat("abc", i%20))
		lines = append(lines, v)
		wants = append(wants, want{value: str(v)})
	}
	input := strings.Join(lines, "\n") + "\n"
	cases := []struct {
		topic string
		args  []string
		code  uint8
	}{
		{"codec-none", []string{"--compression-codec", "none"}, 0},
		{"codec-gzip", []string{"--compression-codec=gzip"}, 1},
		{"codec-snappy", []string{"--compression-codec", "snappy"}, 2},
		{"codec-lz4", []string{"--compression-codec", "lz4"}, 3},
		{"codec-zstd", []string{"--compression-codec", "zstd"}, 4},
		// Without a value the codec is gzip, as in Kafka's tool.
		{"codec-default-gzip", []string{"--compression-codec", "--print-offsets"}, 1},
	}
	for _, c := range cases {
		t.Run(c.topic, func(t *testing.T) {
			args := append([]string{"--bootstrap-server", strings.Join(addrs, ","), "--topic", c.topic, "--print-offsets"}, c.args...)
			res := runTool(t, input, args...)
			require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
			recs := checkByOffsets(t, addrs, c.topic, res.stdout, wants)
			for _, r := range recs {
				require.Equal(t, c.code, r.Attrs.CompressionType(), "codec of the batch holding offset %d", r.Offset)
			}
		})
	}
}

func TestAcks(t *testing.T) {
	topics := map[string]int32{}
	for _, a := range []string{"0", "1", "all", "-1"} {
		topics["acks"+a] = 1
		topics["acks"+a+"-sync"] = 1
	}
	addrs := cluster(t, topics)
	input := "one\ntwo\nthree\nfour\n"
	wants := []want{{value: str("one")}, {value: str("two")}, {value: str("three")}, {value: str("four")}}
	for _, acks := range []string{"0", "1", "all", "-1"} {
		for _, sync := range []bool{false, true} {
			topic := "acks" + acks
			args := []string{"--bootstrap-server", strings.Join(addrs, ","), "--request-required-acks", acks, "--print-offsets"}
			if sync {
				topic += "-sync"
				args = append(args, "--sync")
			}
			t.Run(topic, func(t *testing.T) {
				res := runTool(t, input, append(args, "--topic", topic)...)
				require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
				locs := parseOffsets(t, topic, res.stdout)
				require.Len(t, locs, 4)
				for i, l := range locs {
					want := int64(i)
					if acks == "0" {
						want = -1 // no answer, so no offset
					}
					require.Equal(t, located{0, want}, l, "line %d", i+1)
				}
				if acks == "0" {
					// Nothing tells the tool when the broker has
					// appended records sent with acks=0.
					waitEndOffset(t, addrs, topic, 4)
				}
				// One partition: the consumer sees input order.
				recs := consumeAll(t, addrs, topic)
				require.Len(t, recs, 4)
				for i, r := range recs {
					checkRecord(t, wants[i], r, fmt.Sprintf("record %d", i))
				}
			})
		}
	}
}

func TestProducerConfigPrecedence(t *testing.T) {
	addrs := cluster(t, map[string]int32{"conf": 1})
	dir := t.TempDir()
	cfg := filepath.Join(dir, "producer.properties")
	// A file as Kafka's tool takes it: Java names, comments, ':' and
	// blanks as separators, a continued line, and the serializers Kafka's
	// tool sets itself.
	file := "# producer settings\n" +
		"! another comment\n" +
		"bootstrap.servers=" + strings.Join(addrs, ",") + "\n" +
		"compression.type : gzip\n" +
		"linger.ms 5\n" +
		"key.serializer=org.apache.kafka.common.serialization.StringSerializer\n" +
		"value.serializer=org.apache.kafka.common.serialization.StringSerializer\n" +
		"security.protocol=PLAINTEXT\n" +
		"client.id=con\\\n    sole-test\n"
	require.NoError(t, os.WriteFile(cfg, []byte(file), 0o600))

	// The brokers come from the file; --producer-property overrides the
	// file's codec (kafka-python spelling), and --compression-codec would
	// override both.
	res := runTool(t, "a\nb\n", "--producer.config", cfg, "--topic", "conf",
		"--producer-property", "compression_type=zstd", "--print-offsets")
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	recs := checkByOffsets(t, addrs, "conf", res.stdout, []want{{value: str("a")}, {value: str("b")}})
	for _, r := range recs {
		require.Equal(t, uint8(4), r.Attrs.CompressionType())
	}

	res = runTool(t, "c\n", "--producer.config", cfg, "--topic", "conf",
		"--producer-property", "compression_type=zstd", "--compression-codec", "snappy", "--print-offsets")
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	recs = consumeAll(t, addrs, "conf")
	require.Len(t, recs, 3)
	require.Equal(t, "c", string(recs[2].Value))
	require.Equal(t, uint8(2), recs[2].Attrs.CompressionType())
}

func TestUnknownTopicWithoutAutoCreate(t *testing.T) {
	addrs := cluster(t, map[string]int32{"exists": 1})
	start := time.Now()
	res := runTool(t, "a\nb\nc\n", "--bootstrap-server", strings.Join(addrs, ","), "--topic", "missing",
		"--producer-property", "allow.auto.create.topics=false", "--max-block-ms", "1000")
	require.Equal(t, 1, res.code)
	require.Less(t, time.Since(start), 30*time.Second, "did not give up")
	require.Contains(t, res.stderr, "line 1: ")
	require.Contains(t, res.stderr, `"missing"`)
	require.Contains(t, res.stderr, "max_block_ms")
	require.Contains(t, res.stderr, "stopped at line 1")
	require.NotContains(t, res.stderr, "line 2: ", "lines after a metadata timeout are not tried")
	require.Empty(t, res.stdout)
}

func TestUnreachableBroker(t *testing.T) {
	start := time.Now()
	res := runTool(t, "a\nb\n", "--bootstrap-server", "127.0.0.1:1", "--topic", "t", "--max-block-ms", "2000")
	require.Equal(t, 1, res.code)
	// max.block.ms is 2 s; allow ample time for a loaded machine.
	require.Less(t, time.Since(start), 30*time.Second, "did not give up")
	require.Contains(t, res.stderr, "line 1: ")
	require.Contains(t, res.stderr, "metadata")
}

func TestOversizeLine(t *testing.T) {
	addrs := cluster(t, map[string]int32{"big": 1})
	const max = 2000
	input := "first\n" +
		strings.Repeat("x", 50_000) + "\n" + // longer than the line limit: skipped unread
		"third\n" +
		strings.Repeat("y", max) + "\n" + // fits the line limit, too large as a record
		"fifth"
	res := runTool(t, input, "--bootstrap-server", strings.Join(addrs, ","), "--topic", "big",
		"--producer-property", "max.request.size="+strconv.Itoa(max), "--print-offsets")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, "line 2: line too long: 50000 bytes")
	require.Contains(t, res.stderr, "line 4: ")
	require.Contains(t, res.stderr, "record too large")
	require.NotContains(t, res.stderr, "line 1: ")
	require.NotContains(t, res.stderr, "line 3: ")
	require.NotContains(t, res.stderr, "line 5: ")
	checkByOffsets(t, addrs, "big", res.stdout, []want{{value: str("first")}, {value: str("third")}, {value: str("fifth")}})
}

func TestParseErrors(t *testing.T) {
	addrs := cluster(t, map[string]int32{"parse": 1})
	input := "k1\tv1\nno separator\nk3\tv3\n"
	res := runTool(t, input, "--bootstrap-server", strings.Join(addrs, ","), "--topic", "parse",
		"--property", "parse.key=true", "--print-offsets")
	require.Equal(t, 1, res.code)
	require.Contains(t, res.stderr, `line 2: no key separator "\t" found`)
	require.Equal(t, "parse 0 0\nparse 0 1\n", res.stdout)

	// With ignore.error the line is sent with a null key, as in Kafka.
	res = runTool(t, "still no separator\n", "--bootstrap-server", strings.Join(addrs, ","), "--topic", "parse",
		"--property", "parse.key=true", "--property", "ignore.error=true", "--print-offsets")
	require.Equal(t, 0, res.code, "stderr: %s", res.stderr)
	recs := consumeAll(t, addrs, "parse")
	require.Len(t, recs, 3)
	checkRecord(t, want{key: str("k1"), value: str("v1")}, recs[0], "record 0")
	checkRecord(t, want{key: str("k3"), value: str("v3")}, recs[1], "record 1")
	checkRecord(t, want{value: str("still no separator")}, recs[2], "record 2")
}

func TestUsageErrors(t *testing.T) {
	cases := []struct {
		name string
		args []string
		msg  string
	}{
		{"no broker", []string{"--topic", "t"}, "no brokers given"},
		{"no topic", []string{"--bootstrap-server", "b:9092"}, "--topic is required"},
		{"bad topic", []string{"--bootstrap-server", "b:9092", "--topic", "a/b"}, "illegal character"},
		{"unknown flag", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--nope"}, "unknown flag --nope"},
		{"missing value", []string{"--bootstrap-server", "b:9092", "--topic"}, "--topic needs a value"},
		{"positional", []string{"--bootstrap-server", "b:9092", "--topic", "t", "file.txt"}, "unexpected argument"},
		{"bad property", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--producer-property", "no.such.thing=1"}, "no.such.thing: unknown property"},
		{"property without =", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--producer-property", "linger.ms"}, "want key=value"},
		{"bad number", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--timeout", "soon"}, "--timeout"},
		{"bad acks", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--request-required-acks", "2"}, "acks"},
		{"bad codec", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--compression-codec", "brotli"}, "compression_type"},
		{"bad broker", []string{"--bootstrap-server", "nohostport", "--topic", "t"}, "bootstrap_servers"},
		{"same separators", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--property", "headers.separator=:"}, "headers.separator and headers.key.separator may not be equal"},
		{"null marker is separator", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--property", "null.marker=\t"}, "null.marker and key.separator may not be equal"},
		{"missing config file", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--producer.config", "/nonexistent/p.properties"}, "--producer.config"},
		{"ambiguous prefix", []string{"--bootstrap-server", "b:9092", "--topic", "t", "--re"}, "ambiguous"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := runTool(t, "never read\n", c.args...)
			require.Equal(t, 2, res.code, "stderr: %s", res.stderr)
			require.Contains(t, res.stderr, c.msg)
			require.Empty(t, res.stdout)
		})
	}
}

func TestHelp(t *testing.T) {
	res := runTool(t, "", "--help")
	require.Equal(t, 0, res.code)
	for _, s := range flagSpecs {
		require.Contains(t, res.stdout, "--"+s.name)
	}
}

func TestFlagForms(t *testing.T) {
	f, err := parseFlags([]string{"--topic=a", "-bootstrap-server", "b:1", "--bootstrap", "c:2",
		"--producer-property", "x=y=z", "--producer-property=p=q", "--sync", "--compression-codec", "--print-offsets"})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, f["topic"])
	require.Equal(t, "c:2", f.last("bootstrap-server"), "a repeated flag takes its last value")
	require.Equal(t, []string{"x=y=z", "p=q"}, f["producer-property"])
	require.True(t, f.has("sync"))
	require.Equal(t, []string{""}, f["compression-codec"], "optional value left out")
	require.True(t, f.has("print-offsets"))

	_, err = parseFlags([]string{"--sync=true"})
	require.ErrorContains(t, err, "takes no value")
}

// TestInterrupt checks --sync (a record is acknowledged before the next
// line is read) and that cancelling run's context ends it cleanly.
func TestSyncAndInterrupt(t *testing.T) {
	addrs := cluster(t, map[string]int32{"intr": 1})
	// Input that never ends: the tool must stop on cancel, send what it
	// read and say it was interrupted.
	pr, pw, err := os.Pipe()
	require.NoError(t, err)
	defer pr.Close()
	defer pw.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errb bytes.Buffer
	done := make(chan int, 1)
	go func() {
		// A linger of ten minutes: only --sync sends the line before EOF.
		done <- run(ctx, []string{"--bootstrap-server", strings.Join(addrs, ","), "--topic", "intr",
			"--sync", "--timeout", "600000", "--print-offsets"},
			pr, &out, &errb)
	}()
	_, err = pw.Write([]byte("before interrupt\n"))
	require.NoError(t, err)
	// --sync acknowledges the line before reading on, so once the topic
	// holds it the tool is waiting on input.
	cl, err := kgo.NewClient(kgo.SeedBrokers(addrs...))
	require.NoError(t, err)
	defer cl.Close()
	wctx, wcancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer wcancel()
	for endOffsets(wctx, t, cl, "intr")[0] < 1 {
		require.NoError(t, wctx.Err())
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		require.Equal(t, exitInterrupted, code, "stderr: %s", errb.String())
	case <-time.After(30 * time.Second):
		t.Fatal("run did not return after cancel")
	}
	require.Equal(t, "intr 0 0\n", out.String())
	require.Contains(t, errb.String(), "interrupted")
}
