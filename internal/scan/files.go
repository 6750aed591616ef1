package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Object is what the scan of one object came to.
type Object struct {
	Name     string `json:"name"`
	Bytes    int64  `json:"bytes"` // of text, after decompression
	Findings int    `json:"findings"`
	// Skipped says why the object was not scanned (binary content, an
	// allow-listed path, an error), or is empty.
	Skipped string `json:"skipped,omitempty"`
}

// FileEntry is a file to scan.
type FileEntry struct {
	Path string
	Size int64
}

// ListFiles returns the regular files that paths name, directly or in
// the folders they name, recursively, in lexical order within a folder.
// Symbolic links inside folders are not followed.
func ListFiles(paths []string) ([]FileEntry, error) {
	var out []FileEntry
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.Type().IsRegular() && !(path == p && d.Type()&fs.ModeSymlink != 0) {
				return nil
			}
			info, err := os.Stat(path)
			if err != nil {
				return err
			}
			if info.Mode().IsRegular() {
				out = append(out, FileEntry{Path: path, Size: info.Size()})
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("list files: %w", err)
		}
	}
	return out, nil
}

// File scans the file at path, decompressing gzip and zstd, and calls
// emit with each finding. progress, if not nil, is told of the bytes read
// from the file as they are read. A binary file, or one whose path the
// allow-list names, is skipped and said so in the result.
func (s *Scanner) File(ctx context.Context, path string, progress func(int64), emit func(Finding)) Object {
	if s.opts.Allow.AllowsPath(path) {
		return Object{Name: path, Skipped: "allow-listed path"}
	}
	f, err := os.Open(path)
	if err != nil {
		return Object{Name: path, Skipped: err.Error()}
	}
	defer f.Close()
	return s.Object(ctx, path, f, progress, emit)
}

// Object scans the object name whose bytes r reads, as File does a file.
func (s *Scanner) Object(ctx context.Context, name string, r io.Reader, progress func(int64), emit func(Finding)) Object {
	obj := Object{Name: name}
	if s.opts.Allow.AllowsPath(name) {
		obj.Skipped = "allow-listed path"
		return obj
	}
	if progress != nil {
		r = &countingReader{r: r, add: progress}
	}
	text, closer, err := Decode(r)
	if err != nil {
		if errors.Is(err, ErrBinary) {
			obj.Skipped = "binary content"
		} else {
			obj.Skipped = err.Error()
		}
		return obj
	}
	defer closer.Close()

	obj.Bytes, err = s.Reader(ctx, name, text, func(fd Finding) {
		obj.Findings++
		emit(fd)
	})
	if err != nil {
		obj.Skipped = fmt.Sprintf("stopped after %d bytes: %v", obj.Bytes, err)
	}
	return obj
}

type countingReader struct {
	r   io.Reader
	add func(int64)
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.add(int64(n))
	return n, err
}
