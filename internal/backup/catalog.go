package backup

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/securecart/securecart/internal/objstore"
)

// Catalog is what a deployment's backup folder holds.
type Catalog struct {
	Deployment string
	// Snapshots are the complete snapshots (manifest written), oldest
	// first.
	Snapshots []SnapshotInfo
	// Incomplete are snapshot folders without a manifest: interrupted
	// snapshots, never used for a restore.
	Incomplete []string
	// Segments are sorted by first position.
	Segments []SegmentInfo
	// Keystores are the keystore snapshots, oldest first.
	Keystores []objstore.Info
}

// SnapshotInfo describes a complete snapshot.
type SnapshotInfo struct {
	Dir     string
	Pos     int64
	TakenAt time.Time
	Parts   int
	Bytes   int64
}

// SegmentInfo describes a segment.
type SegmentInfo struct {
	Name        string
	First, Last int64
	Bytes       int64
	Uploaded    time.Time
}

// Window is the span a restore can reach: from the oldest complete
// snapshot to the last shipped segment. Both are zero when there is none.
func (c *Catalog) Window() (from, to time.Time) {
	if len(c.Snapshots) == 0 {
		return time.Time{}, time.Time{}
	}
	from, to = c.Snapshots[0].TakenAt, c.Snapshots[len(c.Snapshots)-1].TakenAt
	if n := len(c.Segments); n > 0 && c.Segments[n-1].Uploaded.After(to) {
		to = c.Segments[n-1].Uploaded
	}
	return from, to
}

// ReadCatalog lists a deployment's backups.
func ReadCatalog(ctx context.Context, obj objstore.Store, deployment string) (*Catalog, error) {
	list, err := obj.List(ctx, objstore.Backups, deployment+"/")
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	c := &Catalog{Deployment: deployment}
	snaps := make(map[string]*SnapshotInfo)
	manifests := make(map[string]bool)
	for _, o := range list {
		name := strings.TrimPrefix(o.Key, deployment+"/")
		switch {
		case strings.HasPrefix(name, "seg/"):
			first, last, ok := parseSegmentName(name)
			if !ok {
				continue
			}
			c.Segments = append(c.Segments, SegmentInfo{Name: name, First: first, Last: last,
				Bytes: o.Size, Uploaded: o.Modified})
		case strings.HasPrefix(name, "snap/"):
			dir, file, ok := strings.Cut(strings.TrimPrefix(name, "snap/"), "/")
			if !ok {
				continue
			}
			dir = "snap/" + dir
			pos, at, ok := parseSnapshotDir(dir)
			if !ok {
				continue
			}
			s := snaps[dir]
			if s == nil {
				s = &SnapshotInfo{Dir: dir, Pos: pos, TakenAt: at}
				snaps[dir] = s
			}
			s.Bytes += o.Size
			if file == "manifest" {
				manifests[dir] = true
			} else {
				s.Parts++
			}
		case strings.HasPrefix(name, "keystore/"):
			c.Keystores = append(c.Keystores, o)
		}
	}
	for dir, s := range snaps {
		if manifests[dir] {
			c.Snapshots = append(c.Snapshots, *s)
		} else {
			c.Incomplete = append(c.Incomplete, dir)
		}
	}
	sort.Slice(c.Snapshots, func(i, j int) bool {
		a, b := c.Snapshots[i], c.Snapshots[j]
		return a.Pos < b.Pos || a.Pos == b.Pos && a.TakenAt.Before(b.TakenAt)
	})
	sort.Strings(c.Incomplete)
	sort.Slice(c.Segments, func(i, j int) bool {
		a, b := c.Segments[i], c.Segments[j]
		return a.First < b.First || a.First == b.First && a.Last < b.Last
	})
	return c, nil
}

// Deployments returns the deployment folders in the backups bucket.
func Deployments(ctx context.Context, obj objstore.Store) ([]string, error) {
	list, err := obj.List(ctx, objstore.Backups, "")
	if err != nil {
		return nil, fmt.Errorf("list backups: %w", err)
	}
	seen := make(map[string]bool)
	var out []string
	for _, o := range list {
		d, _, ok := strings.Cut(o.Key, "/")
		if ok && !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	sort.Strings(out)
	return out, nil
}

func key(deployment, name string) string { return deployment + "/" + name }
