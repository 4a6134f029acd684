package protocol

// DecodeApiVersionsResponse decodes body, the response to an ApiVersions
// request sent at version.
//
// A broker that does not support version answers in the version 0 format
// with UNSUPPORTED_VERSION, and since Kafka 2.4 lists the ApiVersions
// versions it does support (KIP-511), so that the client can ask again
// lower. A body that does not decode at version is therefore read again at
// version 0, and that reading is kept only if it carries
// UNSUPPORTED_VERSION; anything else is the error of the first reading.
// On UNSUPPORTED_VERSION, VersionRange(APIKeyApiVersions) gives the range
// to retry in; it is absent from brokers older than 2.4.
func DecodeApiVersionsResponse(body []byte, version int16) (ApiVersionsResponse, error) {
	var resp ApiVersionsResponse
	err := resp.Decode(body, version)
	if err == nil {
		return resp, nil
	}
	if version != 0 {
		var v0 ApiVersionsResponse
		if v0.Decode(body, 0) == nil && v0.ErrorCode == UnsupportedVersion.Code {
			return v0, nil
		}
	}
	return NewApiVersionsResponse(), err
}

// VersionRange returns the versions of apiKey that m advertises, and false
// if m does not list apiKey.
func (m *ApiVersionsResponse) VersionRange(apiKey int16) (min, max int16, ok bool) {
	for _, k := range m.ApiKeys {
		if k.ApiKey == apiKey {
			return k.MinVersion, k.MaxVersion, true
		}
	}
	return 0, 0, false
}
