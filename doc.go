// Package kafka is a Kafka producer for Go that follows kafka-python's
// KafkaProducer: its option names, its defaults and its futures.
//
// The wire format lives in package protocol and the codecs in package
// compress; both do no I/O.
package kafka
