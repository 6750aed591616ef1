package report

import (
	"context"

	"github.com/securecart/securecart/internal/scan"
)

// Files scans files with sc into w, telling progress (if not nil) of the
// bytes read. It stops at the first error w returns or when ctx ends.
func Files(ctx context.Context, sc *scan.Scanner, files []scan.FileEntry, w Writer, progress func(int64)) error {
	var werr error
	emit := func(f scan.Finding) {
		if werr == nil {
			werr = w.Finding(f)
		}
	}
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			return err
		}
		obj := sc.File(ctx, f.Path, progress, emit)
		if werr != nil {
			return werr
		}
		if err := w.Object(obj); err != nil {
			return err
		}
	}
	return nil
}
