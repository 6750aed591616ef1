package audit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
	"golang.org/x/mod/sumdb/note"
)

// Proof kinds.
const (
	KindInclusion   = "inclusion"
	KindConsistency = "consistency"
)

// Proof is a proof file (format in the package doc). It carries the
// signed checkpoints it is checked against, so that checking it needs only
// the verifier key.
type Proof struct {
	Kind string `json:"kind"`
	// Index is the sequence number of the record (inclusion).
	Index uint64 `json:"index,omitempty"`
	// Record is the encoded record (inclusion).
	Record []byte `json:"record,omitempty"`
	// Hashes are the proof's node hashes, in RFC 6962 order.
	Hashes [][]byte `json:"hashes"`
	// Checkpoint is the signed checkpoint of the tree the record is in
	// (inclusion), or of the larger tree (consistency).
	Checkpoint string `json:"checkpoint"`
	// OldCheckpoint is the signed checkpoint of the smaller tree
	// (consistency).
	OldCheckpoint string `json:"old_checkpoint,omitempty"`
}

// ErrProof is returned, wrapped, by Proof.Verify for a proof that fails.
var ErrProof = errors.New("audit: proof does not verify")

// SignedCheckpoint is a checkpoint as stored, with its parsed text. The
// signature is not checked by ReadCheckpoints.
type SignedCheckpoint struct {
	Checkpoint
	Signed []byte
}

// ReadCheckpoints returns the checkpoints stored in dir whose text parses,
// oldest first, without checking their signatures (Verify does).
func ReadCheckpoints(dir string) ([]SignedCheckpoint, error) {
	data, err := os.ReadFile(filepath.Join(dir, CheckpointsFile))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read checkpoints: %w", err)
	}
	notes, _ := splitNotes(data)
	var out []SignedCheckpoint
	for _, n := range notes {
		text, _, _ := cutNote(n)
		c, err := ParseCheckpoint(text)
		if err != nil {
			continue
		}
		out = append(out, SignedCheckpoint{Checkpoint: c, Signed: n})
	}
	return out, nil
}

// ProveInclusion makes the inclusion proof of record seq in the tree of
// the signed checkpoint cp, from the segments in dir. It reads every
// record of the tree once.
func ProveInclusion(dir string, seq uint64, cp SignedCheckpoint) (*Proof, error) {
	if seq >= cp.Size {
		return nil, fmt.Errorf("record %d is not in checkpoint %d of %d records", seq, cp.Number, cp.Size)
	}
	nodes, err := proof.Inclusion(seq, cp.Size)
	if err != nil {
		return nil, err
	}
	hashes, rec, err := treeNodes(dir, cp.Checkpoint, nodes.IDs, seq)
	if err != nil {
		return nil, err
	}
	if hashes, err = nodes.Rehash(hashes, hasher.HashChildren); err != nil {
		return nil, err
	}
	return &Proof{Kind: KindInclusion, Index: seq, Record: rec, Hashes: hashes, Checkpoint: string(cp.Signed)}, nil
}

// ProveConsistency makes the proof that the tree of checkpoint newer
// extends the tree of checkpoint older.
func ProveConsistency(dir string, older, newer SignedCheckpoint) (*Proof, error) {
	if older.Size > newer.Size || older.Origin != newer.Origin {
		return nil, fmt.Errorf("checkpoint %d does not precede checkpoint %d", older.Number, newer.Number)
	}
	nodes, err := proof.Consistency(older.Size, newer.Size)
	if err != nil {
		return nil, err
	}
	hashes, _, err := treeNodes(dir, newer.Checkpoint, nodes.IDs, newer.Size)
	if err != nil {
		return nil, err
	}
	if hashes, err = nodes.Rehash(hashes, hasher.HashChildren); err != nil {
		return nil, err
	}
	return &Proof{Kind: KindConsistency, Hashes: hashes,
		Checkpoint: string(newer.Signed), OldCheckpoint: string(older.Signed)}, nil
}

// treeNodes reads the records of the tree of cp and returns the hashes of
// the nodes ids and the encoded record want. It fails if the records do
// not hash to the checkpoint's root.
func treeNodes(dir string, cp Checkpoint, ids []compact.NodeID, want uint64) ([][]byte, []byte, error) {
	need := make(map[compact.NodeID]int, len(ids))
	for i, id := range ids {
		need[id] = i
	}
	out := make([][]byte, len(ids))
	visit := func(id compact.NodeID, h []byte) {
		if i, ok := need[id]; ok {
			out[i] = bytes.Clone(h)
		}
	}
	segs, err := listSegments(dir)
	if err != nil {
		return nil, nil, err
	}
	var rng *compact.Range
	var rec []byte
	for _, s := range segs {
		if rng != nil && rng.End() == cp.Size {
			break
		}
		f, head, fr, err := openSegment(s.path)
		if err != nil {
			return nil, nil, err
		}
		if rng == nil {
			rng = head
			for i, id := range compact.RangeNodes(0, head.End(), nil) {
				visit(id, head.Hashes()[i])
			}
		}
		for rng.End() < cp.Size {
			seq, r, err := fr.next()
			if err == io.EOF {
				break
			}
			if err != nil || seq != rng.End() {
				f.Close()
				return nil, nil, fmt.Errorf("%w: at record %d (run audit verify)", ErrCorrupt, rng.End())
			}
			if seq == want {
				rec = bytes.Clone(r)
			}
			rng.Append(hasher.HashLeaf(r), visit)
		}
		f.Close()
	}
	if rng == nil || rng.End() != cp.Size {
		return nil, nil, fmt.Errorf("%w: the directory lacks records of checkpoint %d", ErrCorrupt, cp.Number)
	}
	if root, _ := rng.GetRootHash(nil); !bytes.Equal(root, cp.Root) {
		return nil, nil, fmt.Errorf("%w: the records do not match checkpoint %d (run audit verify)", ErrCorrupt, cp.Number)
	}
	for i, h := range out {
		if h == nil {
			return nil, nil, fmt.Errorf("node %v of the proof is in a segment no longer in the directory", ids[i])
		}
	}
	return out, rec, nil
}

// Verify checks the proof with only the verifier keys: the checkpoints'
// signatures, then the proof against their roots. It returns the
// checkpoint the proof ends at.
func (p *Proof) Verify(verifiers ...note.Verifier) (Checkpoint, error) {
	cp, err := OpenCheckpoint([]byte(p.Checkpoint), verifiers...)
	if err != nil {
		return Checkpoint{}, err
	}
	switch p.Kind {
	case KindInclusion:
		if _, err := Decode(p.Record); err != nil {
			return Checkpoint{}, fmt.Errorf("%w: %w", ErrProof, err)
		}
		err = proof.VerifyInclusion(hasher, p.Index, cp.Size, hasher.HashLeaf(p.Record), p.Hashes, cp.Root)
	case KindConsistency:
		old, oerr := OpenCheckpoint([]byte(p.OldCheckpoint), verifiers...)
		if oerr != nil {
			return Checkpoint{}, oerr
		}
		if old.Origin != cp.Origin {
			return Checkpoint{}, fmt.Errorf("%w: checkpoints of two logs", ErrProof)
		}
		err = proof.VerifyConsistency(hasher, old.Size, cp.Size, p.Hashes, old.Root, cp.Root)
	default:
		return Checkpoint{}, fmt.Errorf("%w: unknown kind %q", ErrProof, p.Kind)
	}
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrProof, err)
	}
	return cp, nil
}

// ParseProof reads a proof file, refusing unknown fields.
func ParseProof(b []byte) (*Proof, error) {
	if len(b) > 1<<20 {
		return nil, fmt.Errorf("%w: proof file too large", ErrProof)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p Proof
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProof, err)
	}
	return &p, nil
}
