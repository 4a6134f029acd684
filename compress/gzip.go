package compress

import (
	"bytes"
	"sync"

	"github.com/klauspost/compress/gzip"
)

// gzipEncoder is the reused state of one gzip compression.
type gzipEncoder struct {
	w   *gzip.Writer
	out sliceWriter
}

type gzipCompressor struct {
	cache *encoderCache[*gzipEncoder]
}

// gzipLevel maps a Kafka gzip level to klauspost's: the default and
// Java's -1 both mean zlib's 6 (klauspost's own default is 5).
func gzipLevel(level int) int {
	if level == DefaultLevel || level == gzipJavaDefault {
		return gzipDefaultLevel
	}
	return level
}

func newGzipCompressor(level int) gzipCompressor {
	level = gzipLevel(level)
	return gzipCompressor{cache: newEncoderCache(func() *gzipEncoder {
		// The level was validated, so NewWriterLevel cannot fail.
		w, _ := gzip.NewWriterLevel(nil, level)
		return &gzipEncoder{w: w}
	})}
}

func (gzipCompressor) Codec() Codec { return Gzip }

func (c gzipCompressor) Compress(dst, src []byte) ([]byte, error) {
	e := c.cache.get()
	e.out.b = dst
	e.w.Reset(&e.out)
	_, err := e.w.Write(src)
	if err == nil {
		err = e.w.Close()
	}
	dst = e.out.b
	e.out.b = nil
	c.cache.put(e)
	return dst, err
}

// gzipDecoder is the pooled state of one gzip decompression.
type gzipDecoder struct {
	r     gzip.Reader
	src   bytes.Reader
	probe [1]byte
}

var gzipReaderPool = sync.Pool{New: func() any { return new(gzipDecoder) }}

// decompressGzip reads every member of a multi-member gzip stream, as
// GZIPInputStream does. Unlike it, bytes after the last member that are not
// another member are an error rather than silently dropped.
func decompressGzip(dst, src []byte, maxSize int) ([]byte, error) {
	d := gzipReaderPool.Get().(*gzipDecoder)
	defer gzipReaderPool.Put(d)
	// bytes.Reader is an io.ByteReader, so flate reads it without adding
	// a bufio.Reader.
	d.src.Reset(src)
	defer d.src.Reset(nil)
	if err := d.r.Reset(&d.src); err != nil {
		return dst, corrupt(Gzip, err)
	}
	d.r.Multistream(true)
	return drain(Gzip, dst, &d.r, maxSize, d.probe[:])
}
