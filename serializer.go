package kafka

import (
	"context"
	"encoding/json"
	"fmt"
)

// Serializer turns a Go value into a record's key or value bytes, like
// kafka-python's key_serializer and value_serializer. A nil result is a
// null key or value.
type Serializer[T any] interface {
	Serialize(topic string, v T) ([]byte, error)
}

// SerializerFunc adapts a function to a Serializer.
type SerializerFunc[T any] func(topic string, v T) ([]byte, error)

// Serialize calls f.
func (f SerializerFunc[T]) Serialize(topic string, v T) ([]byte, error) { return f(topic, v) }

// StringSerializer encodes a string as its UTF-8 bytes, like
// lambda s: s.encode('utf-8').
func StringSerializer() Serializer[string] {
	return SerializerFunc[string](func(_ string, s string) ([]byte, error) { return []byte(s), nil })
}

// BytesSerializer passes bytes through; nil stays a null key or value.
func BytesSerializer() Serializer[[]byte] {
	return SerializerFunc[[]byte](func(_ string, b []byte) ([]byte, error) { return b, nil })
}

// JSONSerializer encodes values with encoding/json, like
// lambda v: json.dumps(v).encode('utf-8').
func JSONSerializer[T any]() Serializer[T] {
	return SerializerFunc[T](func(_ string, v T) ([]byte, error) { return json.Marshal(v) })
}

// TypedProducer sends keys of type K and values of type V through their
// serializers: kafka-python's KafkaProducer with key_serializer and
// value_serializer. A serializer's error is returned from the send
// (wrapping ErrSerialization) and nothing is buffered.
type TypedProducer[K, V any] struct {
	*Producer
	key   Serializer[K]
	value Serializer[V]
}

// NewTypedProducer starts a producer with the given serializers and
// options.
func NewTypedProducer[K, V any](key Serializer[K], value Serializer[V], opts ...Option) (*TypedProducer[K, V], error) {
	// A nil SerializerFunc in the interface is not a nil interface; it
	// would panic on the first send.
	if f, ok := key.(SerializerFunc[K]); key == nil || ok && f == nil {
		return nil, configError("key_serializer", "must not be nil")
	}
	if f, ok := value.(SerializerFunc[V]); value == nil || ok && f == nil {
		return nil, configError("value_serializer", "must not be nil")
	}
	p, err := NewProducer(opts...)
	if err != nil {
		return nil, err
	}
	return &TypedProducer[K, V]{Producer: p, key: key, value: value}, nil
}

// Send serializes key and value and sends them to topic.
func (p *TypedProducer[K, V]) Send(ctx context.Context, topic string, key K, value V) (Future, error) {
	kb, err := p.serializeKey(topic, key)
	if err != nil {
		return Future{}, err
	}
	vb, err := p.serializeValue(topic, value)
	if err != nil {
		return Future{}, err
	}
	return p.Producer.Send(ctx, Record{Topic: topic, Key: kb, Value: vb})
}

// SendValue sends value with a null key, kafka-python's
// send(topic, value=v).
func (p *TypedProducer[K, V]) SendValue(ctx context.Context, topic string, value V) (Future, error) {
	vb, err := p.serializeValue(topic, value)
	if err != nil {
		return Future{}, err
	}
	return p.Producer.Send(ctx, Record{Topic: topic, Value: vb})
}

// SendRecord serializes rec's key and value and sends it with its headers,
// partition and timestamp.
func (p *TypedProducer[K, V]) SendRecord(ctx context.Context, rec Record, key K, value V) (Future, error) {
	var err error
	if rec.Key, err = p.serializeKey(rec.Topic, key); err != nil {
		return Future{}, err
	}
	if rec.Value, err = p.serializeValue(rec.Topic, value); err != nil {
		return Future{}, err
	}
	return p.Producer.Send(ctx, rec)
}

func (p *TypedProducer[K, V]) serializeKey(topic string, key K) ([]byte, error) {
	b, err := p.key.Serialize(topic, key)
	if err != nil {
		return nil, fmt.Errorf("%w: key for topic %q: %w", ErrSerialization, topic, err)
	}
	return b, nil
}

func (p *TypedProducer[K, V]) serializeValue(topic string, value V) ([]byte, error) {
	b, err := p.value.Serialize(topic, value)
	if err != nil {
		return nil, fmt.Errorf("%w: value for topic %q: %w", ErrSerialization, topic, err)
	}
	return b, nil
}
