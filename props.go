package kafka

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/kpgo/kafka/compress"
)

// property turns one property value into an option.
type property func(v string) (Option, error)

func intProp(f func(int) Option) property {
	return func(v string) (Option, error) {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("not an integer: %q", v)
		}
		return f(n), nil
	}
}

// codecLevelProp is a KIP-390 level of one codec: it applies only when
// that codec is the compression_type, as in the Java client.
func codecLevelProp(codec compress.Codec) property {
	return intProp(func(n int) Option {
		return optionFunc(func(c *config) {
			if c.codecLevels == nil {
				c.codecLevels = map[compress.Codec]int{}
			}
			c.codecLevels[codec] = n
		})
	})
}

func msProp(f func(time.Duration) Option) property {
	return intProp(func(n int) Option { return f(time.Duration(n) * time.Millisecond) })
}

func boolProp(f func(bool) Option) property {
	return func(v string) (Option, error) {
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return nil, fmt.Errorf("not a boolean: %q", v)
		}
		return f(b), nil
	}
}

func acksProp(v string) (Option, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "all", "-1":
		return Acks(AcksAll), nil
	case "0":
		return Acks(AcksNone), nil
	case "1":
		return Acks(AcksLeader), nil
	}
	return nil, fmt.Errorf("must be 0, 1, all or -1, got %q", v)
}

// properties maps normalized property names (lower case, '.' and '-' as
// '_') to options. kafka-python and Java names normalize to the same key;
// the librdkafka names that tutorials use are listed where they mean the
// same thing as ours.
var properties = map[string]property{
	"bootstrap_servers": func(v string) (Option, error) { return BootstrapServers(v), nil },
	"metadata_broker_list": func(v string) (Option, error) {
		return BootstrapServers(v), nil
	},
	"client_id":                             func(v string) (Option, error) { return ClientID(v), nil },
	"acks":                                  acksProp,
	"request_required_acks":                 acksProp,
	"retries":                               intProp(Retries),
	"message_send_max_retries":              intProp(Retries),
	"batch_size":                            intProp(BatchSize),
	"batch_num_messages":                    intProp(BatchNumMessages),
	"linger_ms":                             msProp(Linger),
	"queue_buffering_max_ms":                msProp(Linger),
	"buffer_memory":                         intProp(func(n int) Option { return BufferMemory(int64(n)) }),
	"queue_buffering_max_kbytes":            intProp(func(n int) Option { return BufferMemory(int64(n) << 10) }),
	"queue_buffering_max_messages":          intProp(MaxBufferedRecords),
	"max_block_ms":                          msProp(MaxBlock),
	"max_request_size":                      intProp(MaxRequestSize),
	"message_max_bytes":                     intProp(MaxRequestSize),
	"request_timeout_ms":                    msProp(RequestTimeout),
	"delivery_timeout_ms":                   msProp(DeliveryTimeout),
	"message_timeout_ms":                    msProp(DeliveryTimeout),
	"retry_backoff_ms":                      msProp(RetryBackoff),
	"retry_backoff_max_ms":                  msProp(RetryBackoffMax),
	"max_in_flight_requests_per_connection": intProp(MaxInFlightRequestsPerConnection),
	"max_in_flight":                         intProp(MaxInFlightRequestsPerConnection),
	"compression_type": func(v string) (Option, error) {
		return CompressionType(strings.TrimSpace(v)), nil
	},
	"compression_codec": func(v string) (Option, error) {
		return CompressionType(strings.TrimSpace(v)), nil
	},
	"compression_level":                      intProp(CompressionLevel),
	"compression_gzip_level":                 codecLevelProp(compress.Gzip),
	"compression_lz4_level":                  codecLevelProp(compress.LZ4),
	"compression_zstd_level":                 codecLevelProp(compress.Zstd),
	"metadata_max_age_ms":                    msProp(MetadataMaxAge),
	"metadata_max_idle_ms":                   msProp(MetadataMaxIdle),
	"allow_auto_create_topics":               boolProp(AllowAutoCreateTopics),
	"partitioner_ignore_keys":                boolProp(PartitionerIgnoreKeys),
	"connections_max_idle_ms":                msProp(ConnectionsMaxIdle),
	"reconnect_backoff_ms":                   msProp(ReconnectBackoff),
	"send_buffer_bytes":                      intProp(SendBufferBytes),
	"receive_buffer_bytes":                   intProp(ReceiveBufferBytes),
	"reconnect_backoff_max_ms":               msProp(ReconnectBackoffMax),
	"socket_connection_setup_timeout_ms":     msProp(SocketConnectionSetupTimeout),
	"socket_connection_setup_timeout_max_ms": msProp(SocketConnectionSetupTimeoutMax),
	"enable_idempotence":                     boolProp(EnableIdempotence),
	"metrics_enabled":                        boolProp(MetricsEnabled),
	"metrics_num_samples":                    intProp(MetricsNumSamples),
	"metrics_sample_window_ms":               msProp(MetricsSampleWindow),
	"transactional_id": func(v string) (Option, error) {
		return TransactionalID(strings.TrimSpace(v)), nil
	},
	"transaction_timeout_ms": msProp(TransactionTimeout),
}

// normalizeProperty makes "linger.ms", "linger_ms" and "LINGER-MS" the same key.
func normalizeProperty(name string) string {
	return strings.NewReplacer(".", "_", "-", "_").Replace(strings.ToLower(strings.TrimSpace(name)))
}

// OptionsFromMap builds options from kafka-python, Java or librdkafka
// property names and string values, as command-line tools and config
// files give them: {"linger_ms": "5"} and {"linger.ms": "5"} are the same.
// An unknown name or a value that does not parse is an error wrapping
// ErrInvalidConfig that names the property. The options are returned in
// name order, so a later duplicate in another spelling wins predictably.
func OptionsFromMap(props map[string]string) ([]Option, error) {
	names := make([]string, 0, len(props))
	for name := range props {
		names = append(names, name)
	}
	sort.Strings(names)
	opts := make([]Option, 0, len(names))
	for _, name := range names {
		p, ok := properties[normalizeProperty(name)]
		if !ok {
			return nil, configError(name, "unknown property")
		}
		opt, err := p(props[name])
		if err != nil {
			return nil, configError(name, "%v", err)
		}
		opts = append(opts, opt)
	}
	return opts, nil
}
