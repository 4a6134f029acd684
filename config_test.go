package kafka

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/kpgo/kafka/compress"
)

func TestInvalidOptions(t *testing.T) {
	cases := []struct {
		opt    Option
		option string
	}{
		{BootstrapServers(), "bootstrap_servers"},
		{BootstrapServers("nohost"), "bootstrap_servers"},
		{BootstrapServers("host:0"), "bootstrap_servers"},
		{Acks(2), "acks"},
		{Retries(-1), "retries"},
		{BatchSize(-1), "batch_size"},
		{BatchNumMessages(-1), "batch_num_messages"},
		{MaxBufferedRecords(-1), "queue_buffering_max_messages"},
		{Linger(-time.Millisecond), "linger_ms"},
		{BufferMemory(0), "buffer_memory"},
		{MaxBlock(-1), "max_block_ms"},
		{MaxRequestSize(0), "max_request_size"},
		{RequestTimeout(0), "request_timeout_ms"},
		{DeliveryTimeout(time.Second), "delivery_timeout_ms"},
		{RetryBackoff(-1), "retry_backoff_ms"},
		{RetryBackoffMax(time.Millisecond), "retry_backoff_max_ms"},
		{MaxInFlightRequestsPerConnection(0), "max_in_flight_requests_per_connection"},
		{CompressionType("brotli"), "compression_type"},
		{CompressionLevel(99), "compression_level"},
		{MetadataMaxAge(-1), "metadata_max_age_ms"},
		{ConnectionsMaxIdle(-1), "connections_max_idle_ms"},
		{ReconnectBackoff(-1), "reconnect_backoff_ms"},
		{ReconnectBackoffMax(time.Microsecond), "reconnect_backoff_max_ms"},
		{SocketConnectionSetupTimeout(0), "socket_connection_setup_timeout_ms"},
		{SocketConnectionSetupTimeoutMax(time.Second), "socket_connection_setup_timeout_max_ms"},
		{Dialer(nil), "dialer"},
		{SendBufferBytes(0), "send_buffer_bytes"},
		{MetadataMaxIdle(time.Second), "metadata_max_idle_ms"},
		{ReceiveBufferBytes(-2), "receive_buffer_bytes"},
	}
	for _, c := range cases {
		t.Run(c.option, func(t *testing.T) {
			opts := []Option{c.opt}
			if c.option == "compression_level" {
				opts = append(opts, CompressionType("gzip"))
			}
			_, err := NewProducer(opts...)
			require.ErrorIs(t, err, ErrInvalidConfig)
			require.Contains(t, err.Error(), c.option)
		})
	}
}

func TestIdempotenceRules(t *testing.T) {
	build := func(opts ...Option) (*config, error) {
		c := defaultConfig()
		for _, o := range opts {
			o.apply(&c)
		}
		return &c, c.validate()
	}
	c, err := build()
	require.NoError(t, err)
	require.True(t, c.idempotence, "on by default")
	require.Equal(t, AcksAll, c.acks)

	// Left at its default, idempotence yields to explicit conflicting values.
	for _, o := range []Option{Acks(1), Acks(0), Retries(0), MaxInFlightRequestsPerConnection(6)} {
		c, err := build(o)
		require.NoError(t, err)
		require.False(t, c.idempotence)
	}
	// Set explicitly, the same values are errors naming the option.
	for _, tc := range []struct {
		opt  Option
		name string
	}{
		{Acks(1), "acks"},
		{Retries(0), "retries"},
		{MaxInFlightRequestsPerConnection(6), "max_in_flight_requests_per_connection"},
	} {
		o, name := tc.opt, tc.name
		_, err := build(EnableIdempotence(true), o)
		require.ErrorIs(t, err, ErrInvalidConfig)
		require.Contains(t, err.Error(), name)
	}
	c, err = build(EnableIdempotence(true), Acks(AcksAll), MaxInFlightRequestsPerConnection(5))
	require.NoError(t, err)
	require.True(t, c.idempotence)

	// The delivery timeout is raised to linger + request timeout when left
	// at its default, and an error when set too low.
	c, err = build(RequestTimeout(200 * time.Second))
	require.NoError(t, err)
	require.Equal(t, 200*time.Second, c.deliveryTimeout)
}

func TestDefaults(t *testing.T) {
	c := defaultConfig()
	require.NoError(t, c.validate())
	require.Equal(t, []string{"localhost:9092"}, c.bootstrapServers)
	require.Equal(t, 16384, c.batchSize)
	require.Equal(t, time.Duration(0), c.linger)
	require.Equal(t, int64(32<<20), c.bufferMemory)
	require.Equal(t, 60*time.Second, c.maxBlock)
	require.Equal(t, 1<<20, c.maxRequestSize)
	require.Equal(t, 30*time.Second, c.requestTimeout)
	require.Equal(t, 120*time.Second, c.deliveryTimeout)
	require.Equal(t, 100*time.Millisecond, c.retryBackoff)
	require.Equal(t, time.Second, c.retryBackoffMax)
	require.Equal(t, 5, c.maxInFlight)
	require.Equal(t, 5*time.Minute, c.metadataMaxAge)
	require.True(t, c.allowAutoCreate)
	require.True(t, c.idempotence)
}

func TestOptionsFromMap(t *testing.T) {
	opts, err := OptionsFromMap(map[string]string{
		"bootstrap.servers":                     "a:1, b:2",
		"linger_ms":                             "5",
		"acks":                                  "all",
		"compression.type":                      "lz4",
		"queue.buffering.max.messages":          "1000",
		"batch.num.messages":                    "100",
		"message.send.max.retries":              "3",
		"retry.backoff.ms":                      "250",
		"enable.idempotence":                    "false",
		"max.in.flight.requests.per.connection": "2",
		"send.buffer.bytes":                     "131072",
		"receive_buffer_bytes":                  "65536",
		"metadata.max.idle.ms":                  "60000",
	})
	require.NoError(t, err)
	c := defaultConfig()
	for _, o := range opts {
		o.apply(&c)
	}
	require.NoError(t, c.validate())
	require.Equal(t, []string{"a:1", "b:2"}, c.bootstrapServers)
	require.Equal(t, 5*time.Millisecond, c.linger)
	require.Equal(t, AcksAll, c.acks)
	require.Equal(t, "lz4", c.codec.String())
	require.Equal(t, 1000, c.maxBufferedRecords)
	require.Equal(t, 100, c.batchMaxRecords)
	require.Equal(t, 3, c.retries)
	require.Equal(t, 250*time.Millisecond, c.retryBackoff)
	require.False(t, c.idempotence)
	require.Equal(t, 2, c.maxInFlight)
	require.Equal(t, 131072, c.sendBuffer)
	require.Equal(t, 65536, c.receiveBuffer)
	require.Equal(t, time.Minute, c.metadataMaxIdle)

	// Java and kafka-python spellings mean the same thing.
	for _, name := range []string{"linger.ms", "linger_ms", "queue.buffering.max.ms"} {
		opts, err := OptionsFromMap(map[string]string{name: "7"})
		require.NoError(t, err)
		c := defaultConfig()
		opts[0].apply(&c)
		require.Equal(t, 7*time.Millisecond, c.linger, name)
	}

	_, err = OptionsFromMap(map[string]string{"lingerr.ms": "5"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Contains(t, err.Error(), "lingerr.ms")
	_, err = OptionsFromMap(map[string]string{"linger.ms": "soon"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Contains(t, err.Error(), "linger.ms")
	_, err = OptionsFromMap(map[string]string{"acks": "2"})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

func TestTypedProducerNeedsSerializers(t *testing.T) {
	_, err := NewTypedProducer[string, string](nil, StringSerializer())
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Contains(t, err.Error(), "key_serializer")
	// A nil function is a nil serializer too, though not a nil interface.
	var none SerializerFunc[string]
	_, err = NewTypedProducer[string, string](StringSerializer(), none)
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Contains(t, err.Error(), "value_serializer")
	p, err := NewTypedProducer(StringSerializer(), BytesSerializer(), BootstrapServers("127.0.0.1:1"))
	require.NoError(t, err)
	require.NoError(t, p.Close(context.Background()))
}

// Each compression.<codec>.level property (KIP-390) applies to its own
// codec only, as in the Java client; all three used to set one level,
// the last name in sorted order winning.
func TestCodecLevelProperties(t *testing.T) {
	configFrom := func(props map[string]string) (*config, error) {
		opts, err := OptionsFromMap(props)
		require.NoError(t, err)
		cfg := defaultConfig()
		for _, o := range opts {
			o.apply(&cfg)
		}
		return &cfg, cfg.validate()
	}
	cfg, err := configFrom(map[string]string{"compression.type": "gzip", "compression.gzip.level": "9", "compression.zstd.level": "19"})
	require.NoError(t, err)
	require.Equal(t, 9, cfg.compressionLevel)
	cfg, err = configFrom(map[string]string{"compression.type": "lz4", "compression.lz4.level": "9", "compression.zstd.level": "3"})
	require.NoError(t, err)
	require.Equal(t, 9, cfg.compressionLevel)
	cfg, err = configFrom(map[string]string{"compression.type": "zstd", "compression.gzip.level": "9"})
	require.NoError(t, err)
	require.Equal(t, compress.DefaultLevel, cfg.compressionLevel, "gzip's level is not zstd's")
	_, err = configFrom(map[string]string{"compression.type": "zstd", "compression.gzip.level": "99"})
	require.ErrorIs(t, err, ErrInvalidConfig)
	require.Contains(t, err.Error(), "compression.gzip.level")
}
