package kafka

import (
	"errors"
	"fmt"

	"github.com/kpgo/kafka/protocol"
)

// Sentinels for the producer's own conditions. Every error the producer
// returns or fails a future with wraps one of these or a *KafkaError, so
// callers match with errors.Is and errors.As.
var (
	// ErrInvalidConfig is wrapped by every error NewProducer returns for a
	// bad option; the message names the option and the rule.
	ErrInvalidConfig = errors.New("kafka: invalid config")

	// ErrProducerClosed fails sends after Close, and the records Close could
	// not deliver before its context ended.
	ErrProducerClosed = errors.New("kafka: producer closed")

	// ErrInvalidRecord fails a send whose record cannot be valid on any
	// broker: an empty or malformed topic name, neither key nor value, or
	// a timestamp before 1970.
	ErrInvalidRecord = errors.New("kafka: invalid record")

	// ErrRecordTooLarge fails a record whose serialized size is larger than
	// max_request_size or buffer_memory (kafka-python's MessageSizeTooLargeError).
	ErrRecordTooLarge = errors.New("kafka: record too large")

	// ErrBufferFull fails a send that waited max_block_ms (or until its
	// context ended) for room in buffer_memory.
	ErrBufferFull = errors.New("kafka: buffer full")

	// ErrMetadataTimeout fails a send whose topic's metadata could not be
	// fetched within max_block_ms (kafka-python's KafkaTimeoutError).
	ErrMetadataTimeout = errors.New("kafka: metadata not available")

	// ErrDeliveryTimeout fails records that could not be acknowledged within
	// delivery_timeout_ms (KIP-91).
	ErrDeliveryTimeout = errors.New("kafka: delivery timed out")

	// ErrDeliveryUncertain fails records whose earlier attempt may have
	// been written when the producer had to reset its sequence numbers
	// (KIP-360): sending them again could write them twice, so they are
	// reported instead. Check the topic before producing them again.
	ErrDeliveryUncertain = errors.New("kafka: delivery uncertain")

	// ErrSerialization wraps a serializer's failure; the record is not
	// buffered.
	ErrSerialization = errors.New("kafka: serialization failed")

	// ErrUnknownPartition fails a record sent to a partition the topic does
	// not have. A record for a partition above the topic's count waits up
	// to max_block_ms for a metadata refresh to show it (the topic may just
	// have grown); the error then also matches ErrMetadataTimeout.
	ErrUnknownPartition = errors.New("kafka: unknown partition")

	// ErrRejectedWithBatch fails the valid records of a batch the broker
	// refused because of other records in it. The broker named those
	// (KIP-467), and they fail with its error, such as InvalidRecord, and
	// their own message. These records were not written; sending them
	// again can succeed.
	ErrRejectedWithBatch = errors.New("kafka: not written: another record of its batch was refused")

	// ErrCalledFromCallback fails a call made from a delivery callback
	// that would wait for records to complete: Flush, Close with time
	// left, the transactional calls, and a Send that must wait for
	// metadata or buffer room. Callbacks run on the goroutine that
	// completes records, so the wait would never end.
	ErrCalledFromCallback = errors.New("kafka: not allowed in a delivery callback")

	// ErrBrokerUnreachable fails a request that could not reach its broker;
	// the producer retries these within the delivery timeout.
	ErrBrokerUnreachable = errors.New("kafka: broker unreachable")
)

// KafkaError is an error code returned by a broker, with its protocol name,
// a description and whether the request may be retried. Match a specific
// code with errors.Is(err, kafka.NotLeaderOrFollower) and so on, or extract
// it with errors.As.
type KafkaError = protocol.Error

// Kafka error codes that producers meet most often, under the names the
// protocol guide gives them; protocol has every code.
var (
	NotLeaderOrFollower                = protocol.NotLeaderOrFollower
	UnknownTopicOrPartition            = protocol.UnknownTopicOrPartition
	MessageTooLarge                    = protocol.MessageTooLarge
	RecordListTooLarge                 = protocol.RecordListTooLarge
	RequestTimedOut                    = protocol.RequestTimedOut
	NotEnoughReplicas                  = protocol.NotEnoughReplicas
	TopicAuthorizationFailed           = protocol.TopicAuthorizationFailed
	ClusterAuthorizationFailed         = protocol.ClusterAuthorizationFailed
	InvalidRecord                      = protocol.InvalidRecord
	InvalidTimestamp                   = protocol.InvalidTimestamp
	UnsupportedVersion                 = protocol.UnsupportedVersion
	ProducerFenced                     = protocol.ProducerFenced
	OutOfOrderSequenceNumber           = protocol.OutOfOrderSequenceNumber
	InvalidProducerEpoch               = protocol.InvalidProducerEpoch
	UnknownProducerID                  = protocol.UnknownProducerID
	TransactionalIDAuthorizationFailed = protocol.TransactionalIDAuthorizationFailed
	IllegalGeneration                  = protocol.IllegalGeneration
	UnknownMemberID                    = protocol.UnknownMemberID
	FencedInstanceID                   = protocol.FencedInstanceID
)

// IsRetriable reports whether err is a Kafka error code that the producer
// treats as retriable, or a network error it retries.
func IsRetriable(err error) bool {
	if errors.Is(err, ErrBrokerUnreachable) {
		return true
	}
	return protocol.IsRetriable(err)
}

// configError builds an ErrInvalidConfig error that names the option.
func configError(option, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrInvalidConfig, option, fmt.Sprintf(format, args...))
}
