package objstoretest

import (
	"bytes"
	"context"
	"fmt"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// PutOther creates bucket on the server, as another tool would (no
// bucket prefix, no checksum metadata), and writes objects into it.
func PutOther(ctx context.Context, s *Server, bucket string, objects map[string][]byte) error {
	c, err := minio.New(s.addr, &minio.Options{
		Creds:        credentials.NewStaticV4(accessKey, secretKey, ""),
		Region:       "us-east-1",
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return err
	}
	if err := c.MakeBucket(ctx, bucket, minio.MakeBucketOptions{}); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	for key, b := range objects {
		if _, err := c.PutObject(ctx, bucket, key, bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{}); err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, key, err)
		}
	}
	return nil
}
