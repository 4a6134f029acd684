package kafka

import (
	"context"
	"io"
	"log/slog"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kpgo/kafka/compress"
)

// Acks values, as kafka-python's acks=0, acks=1 and acks='all'.
const (
	// AcksNone does not wait for the broker: futures complete when the
	// request is written and their offset is -1.
	AcksNone = 0
	// AcksLeader waits for the partition leader's write.
	AcksLeader = 1
	// AcksAll waits for every in-sync replica (the default).
	AcksAll = -1
)

// Option configures a Producer. Options are named after kafka-python's
// KafkaProducer keyword arguments; each documents its default and the
// kafka-python and Java property names it stands for.
type Option interface{ apply(*config) }

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// DialFunc opens a connection to a broker. It matches net.Dialer's
// DialContext, so a *net.Dialer, a proxy dialer or a test network fits.
type DialFunc func(ctx context.Context, network, address string) (net.Conn, error)

type config struct {
	bootstrapServers    []string
	clientID            string
	acks                int
	acksSet             bool
	retries             int
	retriesSet          bool
	batchSize           int
	batchMaxRecords     int
	maxBufferedRecords  int
	linger              time.Duration
	bufferMemory        int64
	maxBlock            time.Duration
	maxRequestSize      int
	requestTimeout      time.Duration
	deliveryTimeout     time.Duration
	deliveryTimeoutSet  bool
	retryBackoff        time.Duration
	retryBackoffMax     time.Duration
	maxInFlight         int
	maxInFlightSet      bool
	compressionName     string
	compressionLevel    int
	codecLevels         map[compress.Codec]int // compression.<codec>.level properties
	partitioner         Partitioner
	ignoreKeys          bool
	metadataMaxAge      time.Duration
	metadataMaxIdle     time.Duration
	allowAutoCreate     bool
	connectionsMaxIdle  time.Duration
	reconnectBackoff    time.Duration
	reconnectBackoffMax time.Duration
	connSetupTimeout    time.Duration
	connSetupTimeoutMax time.Duration
	sendBuffer          int // SO_SNDBUF; -1 leaves the OS default
	receiveBuffer       int // SO_RCVBUF; -1 leaves the OS default
	idempotence         bool
	idempotenceSet      bool
	dial                DialFunc
	logger              *slog.Logger
	obs                 obsConfig      // metrics and hooks: metrics_options.go
	security            securityConfig // TLS and SASL: security.go
	transactionalID     string
	transactionTimeout  time.Duration

	// Derived by validate.
	codec      compress.Codec
	compressor compress.Compressor
}

// defaultConfig holds every default in one place; they follow current
// kafka-python and the Java client.
func defaultConfig() config {
	return config{
		bootstrapServers:    []string{"localhost:9092"},
		clientID:            "kafka-go-producer",
		acks:                AcksAll,
		retries:             math.MaxInt32,
		batchSize:           16384,
		linger:              0,
		bufferMemory:        32 << 20,
		maxBlock:            60 * time.Second,
		maxRequestSize:      1 << 20,
		requestTimeout:      30 * time.Second,
		deliveryTimeout:     120 * time.Second,
		retryBackoff:        100 * time.Millisecond,
		retryBackoffMax:     time.Second,
		maxInFlight:         5,
		compressionName:     "none",
		compressionLevel:    compress.DefaultLevel,
		metadataMaxAge:      5 * time.Minute,
		metadataMaxIdle:     5 * time.Minute,
		allowAutoCreate:     true,
		connectionsMaxIdle:  9 * time.Minute,
		reconnectBackoff:    50 * time.Millisecond,
		reconnectBackoffMax: time.Second,
		connSetupTimeout:    10 * time.Second,
		connSetupTimeoutMax: 30 * time.Second,
		sendBuffer:          -1,
		receiveBuffer:       -1,
		idempotence:         true,
		transactionTimeout:  time.Minute,
		// No dial timeout of its own: socket_connection_setup_timeout_ms
		// bounds the connect through the context.
		dial:   (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
}

// BootstrapServers sets the host:port addresses used to discover the
// cluster (bootstrap_servers, bootstrap.servers). Any one that answers is
// enough. Default "localhost:9092".
func BootstrapServers(addrs ...string) Option {
	return optionFunc(func(c *config) {
		c.bootstrapServers = nil
		for _, a := range addrs {
			for _, s := range strings.Split(a, ",") {
				if s = strings.TrimSpace(s); s != "" {
					c.bootstrapServers = append(c.bootstrapServers, s)
				}
			}
		}
	})
}

// ClientID names this producer in broker logs and quotas (client_id,
// client.id). Default "kafka-go-producer".
func ClientID(id string) Option { return optionFunc(func(c *config) { c.clientID = id }) }

// Acks sets how many acknowledgements the leader must have before a write
// counts as done (acks): AcksNone (0), AcksLeader (1) or AcksAll (-1, 'all').
// Default AcksAll. With AcksNone the broker does not answer: a record is done,
// with offset -1, once its request has been written to the socket.
func Acks(acks int) Option {
	return optionFunc(func(c *config) { c.acks, c.acksSet = acks, true })
}

// Retries bounds how many times a failed batch is resent (retries). The
// default is unbounded: a batch is retried until delivery_timeout_ms ends.
// Zero disables retries (and, with idempotence left at its default, turns
// idempotence off).
func Retries(n int) Option {
	return optionFunc(func(c *config) { c.retries, c.retriesSet = n, true })
}

// BatchSize is the most bytes of records put in one partition's batch
// (batch_size, batch.size). A record larger than this goes in a batch of
// its own. Default 16384.
func BatchSize(bytes int) Option { return optionFunc(func(c *config) { c.batchSize = bytes }) }

// BatchNumMessages caps the records in one batch (librdkafka's
// batch.num.messages). Default 0: only BatchSize bounds a batch.
func BatchNumMessages(n int) Option { return optionFunc(func(c *config) { c.batchMaxRecords = n }) }

// MaxBufferedRecords caps the records buffered and not yet acknowledged
// (librdkafka's queue.buffering.max.messages); a full count makes Send
// wait up to MaxBlock like a full BufferMemory. Default 0: only
// BufferMemory bounds the buffer.
func MaxBufferedRecords(n int) Option {
	return optionFunc(func(c *config) { c.maxBufferedRecords = n })
}

// Linger is how long a batch that is not full waits for more records
// before it is sent (linger_ms, linger.ms). Default 0.
func Linger(d time.Duration) Option { return optionFunc(func(c *config) { c.linger = d }) }

// BufferMemory bounds the bytes of records buffered and not yet
// acknowledged (buffer_memory, buffer.memory). A full buffer makes Send
// wait up to MaxBlock. Default 32 MiB.
func BufferMemory(bytes int64) Option {
	return optionFunc(func(c *config) { c.bufferMemory = bytes })
}

// MaxBlock bounds how long Send waits for metadata or for room in the
// buffer (max_block_ms, max.block.ms). Default 60 s.
func MaxBlock(d time.Duration) Option { return optionFunc(func(c *config) { c.maxBlock = d }) }

// MaxRequestSize bounds a produce request and so a single record
// (max_request_size, max.request.size). Default 1 MiB.
func MaxRequestSize(bytes int) Option {
	return optionFunc(func(c *config) { c.maxRequestSize = bytes })
}

// RequestTimeout is how long the producer waits for a broker's answer
// before it gives up on that request and retries it (request_timeout_ms,
// request.timeout.ms). Default 30 s.
func RequestTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.requestTimeout = d })
}

// DeliveryTimeout bounds the time from Send to the record's final outcome,
// retries included (delivery_timeout_ms, delivery.timeout.ms, KIP-91). It
// must be at least Linger plus RequestTimeout. Default 120 s.
func DeliveryTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.deliveryTimeout, c.deliveryTimeoutSet = d, true })
}

// RetryBackoff is the first wait before a retry (retry_backoff_ms,
// retry.backoff.ms); it grows exponentially up to RetryBackoffMax
// (KIP-580). Default 100 ms.
func RetryBackoff(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retryBackoff = d })
}

// RetryBackoffMax caps the retry backoff (retry_backoff_max_ms,
// retry.backoff.max.ms). Default 1 s.
func RetryBackoffMax(d time.Duration) Option {
	return optionFunc(func(c *config) { c.retryBackoffMax = d })
}

// MaxInFlightRequestsPerConnection bounds unacknowledged produce requests
// per broker (max_in_flight_requests_per_connection,
// max.in.flight.requests.per.connection). Idempotence keeps order with up
// to 5. Default 5.
func MaxInFlightRequestsPerConnection(n int) Option {
	return optionFunc(func(c *config) { c.maxInFlight, c.maxInFlightSet = n, true })
}

// CompressionType sets the codec of produced batches (compression_type,
// compression.type): "none", "gzip", "snappy", "lz4" or "zstd". Default
// "none".
func CompressionType(name string) Option {
	return optionFunc(func(c *config) { c.compressionName = name })
}

// CompressionLevel sets the codec's level (compression.gzip.level,
// compression.lz4.level, compression.zstd.level; KIP-390). Default: the
// codec's own default.
func CompressionLevel(level int) Option {
	return optionFunc(func(c *config) { c.compressionLevel = level })
}

// WithPartitioner sets the partitioner for records that do not name a
// partition (partitioner). Default: DefaultPartitioner, murmur2 for keyed
// records and uniform sticky for the rest.
func WithPartitioner(p Partitioner) Option {
	return optionFunc(func(c *config) { c.partitioner = p })
}

// PartitionerIgnoreKeys makes the default partitioner place keyed records
// by the uniform sticky rule too, not by their key's hash
// (partitioner_ignore_keys, partitioner.ignore.keys, KIP-794): for keys
// that need no ordering, it gives larger batches. A partitioner set with
// WithPartitioner is used as it is, as in the Java client. Default false.
func PartitionerIgnoreKeys(ignore bool) Option {
	return optionFunc(func(c *config) { c.ignoreKeys = ignore })
}

// MetadataMaxAge forces a metadata refresh after this long even without a
// reason to (metadata_max_age_ms, metadata.max.age.ms). Default 5 min.
func MetadataMaxAge(d time.Duration) Option {
	return optionFunc(func(c *config) { c.metadataMaxAge = d })
}

// MetadataMaxIdle is how long a topic no record was sent to stays in the
// producer's metadata requests (metadata_max_idle_ms, metadata.max.idle.ms,
// KIP-526; at least 5 s). Default 5 min. A producer that has written to
// many topics over its life then does not fetch all of them on every
// refresh. The topic's last metadata is kept: a Send to it again goes to
// the leader it knew, and the next refresh includes it.
func MetadataMaxIdle(d time.Duration) Option {
	return optionFunc(func(c *config) { c.metadataMaxIdle = d })
}

// AllowAutoCreateTopics lets the broker create a topic the producer asks
// metadata for (allow_auto_create_topics, allow.auto.create.topics), when
// the broker allows it too. Default true.
func AllowAutoCreateTopics(allow bool) Option {
	return optionFunc(func(c *config) { c.allowAutoCreate = allow })
}

// ConnectionsMaxIdle closes broker connections idle this long
// (connections_max_idle_ms, connections.max.idle.ms). Default 9 min.
func ConnectionsMaxIdle(d time.Duration) Option {
	return optionFunc(func(c *config) { c.connectionsMaxIdle = d })
}

// SendBufferBytes sets each broker socket's send buffer (send_buffer_bytes,
// send.buffer.bytes; SO_SNDBUF). Default -1: the OS's, which Linux grows
// with the connection's needs, as kafka-python's None does; the Java
// client sets 128 KiB. A fixed size helps links with a large
// bandwidth-delay product where autotuning is capped.
func SendBufferBytes(n int) Option { return optionFunc(func(c *config) { c.sendBuffer = n }) }

// ReceiveBufferBytes sets each broker socket's receive buffer
// (receive_buffer_bytes, receive.buffer.bytes; SO_RCVBUF). Default -1: the
// OS's, as kafka-python's None; the Java client sets 32 KiB.
func ReceiveBufferBytes(n int) Option { return optionFunc(func(c *config) { c.receiveBuffer = n }) }

// ReconnectBackoff is the first wait before reconnecting to a broker
// (reconnect_backoff_ms, reconnect.backoff.ms). Default 50 ms.
func ReconnectBackoff(d time.Duration) Option {
	return optionFunc(func(c *config) { c.reconnectBackoff = d })
}

// ReconnectBackoffMax caps the reconnect backoff (reconnect_backoff_max_ms,
// reconnect.backoff.max.ms). Default 1 s.
func ReconnectBackoffMax(d time.Duration) Option {
	return optionFunc(func(c *config) { c.reconnectBackoffMax = d })
}

// SocketConnectionSetupTimeout bounds the setup of a broker connection:
// TCP connect, TLS, ApiVersions and SASL
// (socket_connection_setup_timeout_ms, socket.connection.setup.timeout.ms,
// KIP-601). After each failed attempt to reach a broker the bound doubles,
// up to SocketConnectionSetupTimeoutMax, with ±20% jitter, so a host that
// drops packets holds up metadata only briefly while a slow one still gets
// its chance. Default 10 s.
func SocketConnectionSetupTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.connSetupTimeout = d })
}

// SocketConnectionSetupTimeoutMax caps SocketConnectionSetupTimeout's
// growth (socket_connection_setup_timeout_max_ms,
// socket.connection.setup.timeout.max.ms). Default 30 s.
func SocketConnectionSetupTimeoutMax(d time.Duration) Option {
	return optionFunc(func(c *config) { c.connSetupTimeoutMax = d })
}

// EnableIdempotence makes the broker drop duplicates of retried batches
// and keep each partition's order (enable_idempotence,
// enable.idempotence). Default true; left at its default, it turns itself
// off when acks, retries or max in-flight are set to values it cannot work
// with, while set explicitly those values are errors (as in kafka-python).
func EnableIdempotence(enable bool) Option {
	return optionFunc(func(c *config) { c.idempotence, c.idempotenceSet = enable, true })
}

// TransactionalID makes the producer transactional (transactional_id,
// transactional.id): records are sent inside transactions that commit or
// abort together, and a new producer with the same id fences this one.
// It needs idempotence, which it turns on. Call InitTransactions first.
func TransactionalID(id string) Option {
	return optionFunc(func(c *config) { c.transactionalID = id })
}

// TransactionTimeout is how long the coordinator lets a transaction stay
// open before aborting it (transaction_timeout_ms, transaction.timeout.ms;
// default 60 s).
func TransactionTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.transactionTimeout = d })
}

// Dialer sets how broker connections are opened: for tests, proxies and
// custom networks. Default: a net.Dialer with a 10 s timeout.
func Dialer(dial DialFunc) Option { return optionFunc(func(c *config) { c.dial = dial }) }

// Logger sets where the producer logs connection, metadata and retry
// events. It never logs per record at info level. Default: discard.
func Logger(l *slog.Logger) Option { return optionFunc(func(c *config) { c.logger = l }) }

// validate checks every option and derives what the producer needs. Its
// errors wrap ErrInvalidConfig and name the option and the rule.
func (c *config) validate() error {
	if len(c.bootstrapServers) == 0 {
		return configError("bootstrap_servers", "at least one host:port is required")
	}
	for _, s := range c.bootstrapServers {
		host, port, err := net.SplitHostPort(s)
		if err != nil || host == "" {
			return configError("bootstrap_servers", "%q is not host:port", s)
		}
		if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
			return configError("bootstrap_servers", "%q has no valid port", s)
		}
	}
	switch c.acks {
	case AcksNone, AcksLeader, AcksAll:
	default:
		return configError("acks", "must be 0, 1 or all (-1), got %d", c.acks)
	}
	if c.retries < 0 {
		return configError("retries", "must be >= 0, got %d", c.retries)
	}
	if c.batchSize < 0 {
		return configError("batch_size", "must be >= 0, got %d", c.batchSize)
	}
	if c.batchMaxRecords < 0 {
		return configError("batch_num_messages", "must be >= 0, got %d", c.batchMaxRecords)
	}
	if c.maxBufferedRecords < 0 {
		return configError("queue_buffering_max_messages", "must be >= 0, got %d", c.maxBufferedRecords)
	}
	if c.linger < 0 {
		return configError("linger_ms", "must be >= 0, got %v", c.linger)
	}
	if c.bufferMemory <= 0 {
		return configError("buffer_memory", "must be > 0, got %d", c.bufferMemory)
	}
	if c.maxBlock < 0 {
		return configError("max_block_ms", "must be >= 0, got %v", c.maxBlock)
	}
	if c.maxRequestSize <= 0 {
		return configError("max_request_size", "must be > 0, got %d", c.maxRequestSize)
	}
	if c.requestTimeout <= 0 {
		return configError("request_timeout_ms", "must be > 0, got %v", c.requestTimeout)
	}
	if c.deliveryTimeout < c.linger+c.requestTimeout {
		// The Java client raises this when the user set the delivery timeout
		// and silently raises it otherwise (KIP-91); we do the same.
		if c.deliveryTimeoutSet {
			return configError("delivery_timeout_ms", "must be >= linger_ms + request_timeout_ms (%v), got %v",
				c.linger+c.requestTimeout, c.deliveryTimeout)
		}
		c.deliveryTimeout = c.linger + c.requestTimeout
	}
	if c.retryBackoff < 0 {
		return configError("retry_backoff_ms", "must be >= 0, got %v", c.retryBackoff)
	}
	if c.retryBackoffMax < c.retryBackoff {
		return configError("retry_backoff_max_ms", "must be >= retry_backoff_ms (%v), got %v", c.retryBackoff, c.retryBackoffMax)
	}
	if c.maxInFlight < 1 {
		return configError("max_in_flight_requests_per_connection", "must be >= 1, got %d", c.maxInFlight)
	}
	codec, err := compress.ParseCodec(c.compressionName)
	if err != nil {
		return configError("compression_type", "must be none, gzip, snappy, lz4 or zstd, got %q", c.compressionName)
	}
	for cd, level := range c.codecLevels {
		if err := compress.ValidateLevel(cd, level); err != nil {
			return configError("compression."+cd.String()+".level", "%v", err)
		}
	}
	if l, ok := c.codecLevels[codec]; ok && c.compressionLevel == compress.DefaultLevel {
		c.compressionLevel = l
	}
	if err := compress.ValidateLevel(codec, c.compressionLevel); err != nil {
		return configError("compression_level", "%v", err)
	}
	c.codec = codec
	if codec != compress.None {
		if c.compressor, err = compress.NewCompressor(codec, c.compressionLevel); err != nil {
			return configError("compression_type", "%v", err)
		}
	}
	if c.metadataMaxAge < 0 {
		return configError("metadata_max_age_ms", "must be >= 0, got %v", c.metadataMaxAge)
	}
	if c.metadataMaxIdle < 5*time.Second {
		return configError("metadata_max_idle_ms", "must be at least 5 s, got %v", c.metadataMaxIdle)
	}
	if c.connectionsMaxIdle < 0 {
		return configError("connections_max_idle_ms", "must be >= 0, got %v", c.connectionsMaxIdle)
	}
	if c.sendBuffer != -1 && c.sendBuffer <= 0 {
		return configError("send_buffer_bytes", "must be -1 (the OS default) or positive, got %d", c.sendBuffer)
	}
	if c.receiveBuffer != -1 && c.receiveBuffer <= 0 {
		return configError("receive_buffer_bytes", "must be -1 (the OS default) or positive, got %d", c.receiveBuffer)
	}
	if c.reconnectBackoff < 0 {
		return configError("reconnect_backoff_ms", "must be >= 0, got %v", c.reconnectBackoff)
	}
	if c.connSetupTimeout <= 0 {
		return configError("socket_connection_setup_timeout_ms", "must be positive, got %v", c.connSetupTimeout)
	}
	if c.connSetupTimeoutMax < c.connSetupTimeout {
		return configError("socket_connection_setup_timeout_max_ms", "must be >= socket_connection_setup_timeout_ms (%v), got %v", c.connSetupTimeout, c.connSetupTimeoutMax)
	}
	if c.reconnectBackoffMax < c.reconnectBackoff {
		return configError("reconnect_backoff_max_ms", "must be >= reconnect_backoff_ms (%v), got %v", c.reconnectBackoff, c.reconnectBackoffMax)
	}
	if err := c.obs.validate(); err != nil {
		return err
	}
	if c.dial == nil {
		return configError("dialer", "must not be nil")
	}
	if err := c.security.validate(); err != nil {
		return err
	}
	if c.logger == nil {
		c.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if _, isDefault := c.partitioner.(DefaultPartitioner); c.partitioner == nil || isDefault {
		c.partitioner = NewDefaultPartitioner()
		if c.ignoreKeys {
			c.partitioner = stickyPartitioner{}
		}
	}
	return c.validateIdempotence()
}

// validateIdempotence applies kafka-python's rule: idempotence needs
// acks=all, retries > 0 and at most 5 requests in flight. Left at its
// default, it yields to explicit settings; set explicitly, a conflict is an
// error.
func (c *config) validateIdempotence() error {
	if c.transactionalID != "" {
		if c.idempotenceSet && !c.idempotence {
			return configError("enable_idempotence", "must be true when transactional_id is set")
		}
		if c.transactionTimeout <= 0 || c.transactionTimeout > time.Duration(math.MaxInt32)*time.Millisecond {
			return configError("transaction_timeout_ms", "must be > 0 and fit in 32 bits of milliseconds, got %v", c.transactionTimeout)
		}
		// Transactions need idempotence: conflicting settings are errors.
		c.idempotence, c.idempotenceSet = true, true
	}
	if !c.idempotence {
		return nil
	}
	conflict := func(option, rule string) error {
		if c.idempotenceSet {
			return configError(option, "%s when enable_idempotence is true", rule)
		}
		c.idempotence = false
		return nil
	}
	if c.acksSet && c.acks != AcksAll {
		if err := conflict("acks", "must be all"); err != nil {
			return err
		}
	}
	if c.retriesSet && c.retries == 0 {
		if err := conflict("retries", "must be > 0"); err != nil {
			return err
		}
	}
	if c.maxInFlightSet && c.maxInFlight > 5 {
		if err := conflict("max_in_flight_requests_per_connection", "must be <= 5"); err != nil {
			return err
		}
	}
	return nil
}
