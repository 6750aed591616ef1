package backup

import (
	"context"
	"strings"
)

// OpenObject opens one sealed object of the backups bucket in memory, by
// its key there (DEPLOYMENT/NAME): a segment, a snapshot part or a
// manifest, decompressed. It is for readers of the objects other than a
// restore, such as the sensitive-data scanner, and writes nothing. An
// object that does not open under s for that key is a *SegmentError
// wrapping ErrCorrupt.
func OpenObject(ctx context.Context, s Sealer, key string, sealed []byte) ([]byte, error) {
	dep, name, ok := strings.Cut(key, "/")
	if !ok || dep == "" || name == "" {
		return nil, &SegmentError{Name: key, Err: ErrCorrupt}
	}
	return open(ctx, s, dep, name, sealed)
}
