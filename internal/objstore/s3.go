package objstore

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// S3Config is how to reach an S3-compatible service.
type S3Config struct {
	// Endpoint is a URL such as https://s3.eu-west-1.amazonaws.com or
	// http://127.0.0.1:7070; http is allowed only for a loopback host.
	Endpoint string
	Region   string
	// BucketPrefix is prepended to each bucket name: with "shop-", the
	// backups bucket is shop-backups.
	BucketPrefix string
	AccessKey    string
	SecretKey    string
	// MaxRetries bounds the client's own retries of one request (default
	// 3); callers such as the backup shipper retry on top with backoff.
	MaxRetries int
}

// S3 is a Store in an S3-compatible service, one S3 bucket per Store
// bucket. Each object carries its SHA-256 as user metadata.
type S3 struct {
	c      *minio.Client
	prefix string
}

// User metadata keys. The class is kept as metadata too, because some
// services accept x-amz-storage-class and store everything as STANDARD.
const (
	metaSum   = "Sha256"
	metaClass = "Storage-Class"
)

// NewS3 returns an S3 store. It does not contact the service; call
// EnsureBuckets to create the buckets.
func NewS3(cfg S3Config) (*S3, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("s3 endpoint %q: want http(s)://host[:port]", cfg.Endpoint)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("s3 endpoint %q: plain http only to a loopback address", cfg.Endpoint)
	}
	if cfg.MaxRetries <= 0 {
		cfg.MaxRetries = 3
	}
	c, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       u.Scheme == "https",
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
		MaxRetries:   cfg.MaxRetries,
	})
	if err != nil {
		return nil, fmt.Errorf("s3 client: %w", err)
	}
	return &S3{c: c, prefix: cfg.BucketPrefix}, nil
}

func loopback(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

func (s *S3) bucket(b string) string { return s.prefix + b }

// EnsureBuckets creates the buckets that do not exist yet.
func (s *S3) EnsureBuckets(ctx context.Context) error {
	for _, b := range Buckets {
		ok, err := s.c.BucketExists(ctx, s.bucket(b))
		if err != nil {
			return fmt.Errorf("s3 bucket %s: %w", s.bucket(b), err)
		}
		if ok {
			continue
		}
		if err := s.c.MakeBucket(ctx, s.bucket(b), minio.MakeBucketOptions{}); err != nil {
			return fmt.Errorf("s3 create bucket %s: %w", s.bucket(b), err)
		}
	}
	return nil
}

// Put implements Store.
func (s *S3) Put(ctx context.Context, bucket, key string, data []byte, class Class) (Info, error) {
	if err := check(bucket, key); err != nil {
		return Info{}, err
	}
	if !class.Valid() {
		return Info{}, fmt.Errorf("%w: class %q", ErrInvalidKey, class)
	}
	if len(data) > MaxObjectSize {
		return Info{}, ErrTooLarge
	}
	sum := sha256.Sum256(data)
	opts := minio.PutObjectOptions{
		UserMetadata:     map[string]string{metaSum: hex.EncodeToString(sum[:]), metaClass: string(class)},
		StorageClass:     string(class),
		ContentType:      "application/octet-stream",
		DisableMultipart: true,
		SendContentMd5:   true,
	}
	_, err := s.c.PutObject(ctx, s.bucket(bucket), key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return Info{}, fmt.Errorf("put %s/%s: %w", bucket, key, err)
	}
	return Info{Bucket: bucket, Key: key, Size: int64(len(data)), Class: class, SHA256: sum}, nil
}

// Get implements Store.
func (s *S3) Get(ctx context.Context, bucket, key string) ([]byte, Info, error) {
	if err := check(bucket, key); err != nil {
		return nil, Info{}, err
	}
	obj, err := s.c.GetObject(ctx, s.bucket(bucket), key, minio.GetObjectOptions{})
	if err != nil {
		return nil, Info{}, s.err("get", bucket, key, err)
	}
	defer obj.Close()
	st, err := obj.Stat()
	if err != nil {
		return nil, Info{}, s.err("get", bucket, key, err)
	}
	if st.Size > MaxObjectSize {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, ErrTooLarge)
	}
	data, err := io.ReadAll(io.LimitReader(obj, MaxObjectSize+1))
	if err != nil {
		return nil, Info{}, s.err("get", bucket, key, err)
	}
	info, err := s.info(bucket, st)
	if err != nil {
		return nil, Info{}, err
	}
	if sha256.Sum256(data) != info.SHA256 {
		return nil, Info{}, fmt.Errorf("get %s/%s: %w", bucket, key, ErrChecksum)
	}
	return data, info, nil
}

func (s *S3) info(bucket string, st minio.ObjectInfo) (Info, error) {
	info := Info{Bucket: bucket, Key: st.Key, Size: st.Size, Class: Class(st.StorageClass),
		Modified: st.LastModified.UTC()}
	if c := Class(st.UserMetadata[metaClass]); c.Valid() && (info.Class == "" || info.Class == Standard) {
		info.Class = c
	}
	if !info.Class.Valid() {
		info.Class = Standard
	}
	sum, err := hex.DecodeString(st.UserMetadata[metaSum])
	if err != nil || len(sum) != sha256.Size {
		return Info{}, fmt.Errorf("%s/%s: no checksum: %w", bucket, st.Key, ErrChecksum)
	}
	copy(info.SHA256[:], sum)
	return info, nil
}

func (s *S3) err(op, bucket, key string, err error) error {
	if minio.ToErrorResponse(err).Code == minio.NoSuchKey {
		return fmt.Errorf("%s %s/%s: %w", op, bucket, key, ErrNotFound)
	}
	return fmt.Errorf("%s %s/%s: %w", op, bucket, key, err)
}

// Stat implements Store.
func (s *S3) Stat(ctx context.Context, bucket, key string) (Info, error) {
	if err := check(bucket, key); err != nil {
		return Info{}, err
	}
	st, err := s.c.StatObject(ctx, s.bucket(bucket), key, minio.StatObjectOptions{})
	if err != nil {
		return Info{}, s.err("stat", bucket, key, err)
	}
	return s.info(bucket, st)
}

// List implements Store. Listed objects carry no SHA256.
func (s *S3) List(ctx context.Context, bucket, prefix string) ([]Info, error) {
	if !validBucket(bucket) || !validPrefix(prefix) {
		return nil, fmt.Errorf("%w: %q/%q", ErrInvalidKey, bucket, prefix)
	}
	var out []Info
	for o := range s.c.ListObjects(ctx, s.bucket(bucket), minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s/%s: %w", bucket, prefix, o.Err)
		}
		c := Class(o.StorageClass)
		if !c.Valid() {
			c = Standard
		}
		out = append(out, Info{Bucket: bucket, Key: o.Key, Size: o.Size, Class: c, Modified: o.LastModified.UTC()})
	}
	return out, nil
}

// Delete implements Store.
func (s *S3) Delete(ctx context.Context, bucket, key string) error {
	if err := check(bucket, key); err != nil {
		return err
	}
	err := s.c.RemoveObject(ctx, s.bucket(bucket), key, minio.RemoveObjectOptions{})
	if err != nil && !errors.Is(s.err("delete", bucket, key, err), ErrNotFound) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	return nil
}
