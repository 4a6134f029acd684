package protocol

// RequestHeader is the header that starts every request (RequestHeader.json).
// Version 1 carries the client id; version 2 adds tagged fields and is used
// with every flexible request version (KIP-482).
type RequestHeader struct {
	APIKey        int16
	APIVersion    int16
	CorrelationID int32
	// ClientID is nullable on the wire; nil writes a null string.
	ClientID *string
}

// AppendRequestHeader appends h in header version 2 when flexible is true,
// else version 1. The client id stays a classic (non-compact) nullable
// string even in version 2, as the schema pins its flexibleVersions to none.
func AppendRequestHeader(b []byte, h RequestHeader, flexible bool) []byte {
	b = AppendInt16(b, h.APIKey)
	b = AppendInt16(b, h.APIVersion)
	b = AppendInt32(b, h.CorrelationID)
	b = AppendNullableString(b, h.ClientID)
	if flexible {
		b = AppendEmptyTaggedFields(b)
	}
	return b
}

// ReadRequestHeader reads a request header of version 2 when flexible is
// true, else version 1. Brokers and test peers use it.
func ReadRequestHeader(r *Reader, flexible bool) RequestHeader {
	h := RequestHeader{
		APIKey:        r.Int16(),
		APIVersion:    r.Int16(),
		CorrelationID: r.Int32(),
		ClientID:      r.NullableString(),
	}
	if flexible {
		r.TaggedFields(nil)
	}
	return h
}

// ResponseHeaderFlexible reports whether the response to apiKey at version
// uses response header v1. ApiVersions always answers with header v0 so a
// client that asked for too high a version can still read the error
// (KIP-511).
func ResponseHeaderFlexible(apiKey, version int16) bool {
	if apiKey == APIKeyApiVersions {
		return false
	}
	return IsFlexible(apiKey, version)
}

// AppendResponseHeader appends a response header: v1 (with tagged fields)
// when flexible, else v0.
func AppendResponseHeader(b []byte, correlationID int32, flexible bool) []byte {
	b = AppendInt32(b, correlationID)
	if flexible {
		b = AppendEmptyTaggedFields(b)
	}
	return b
}

// ReadResponseHeader reads a response header (v1 when flexible, else v0)
// and returns its correlation id.
func ReadResponseHeader(r *Reader, flexible bool) int32 {
	id := r.Int32()
	if flexible {
		r.TaggedFields(nil)
	}
	return id
}
