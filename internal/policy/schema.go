package policy

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/schema"
	"github.com/cedar-policy/cedar-go/x/exp/schema/resolved"
)

const namespace = "SecureCart::"

//go:embed schema.cedarschema
var schemaText []byte

//go:embed policies.cedar
var defaultPolicies []byte

// Schema returns the Cedar schema every policy set is validated against.
func Schema() []byte { return slices.Clone(schemaText) }

// DefaultPolicies returns the text of the default policy set.
func DefaultPolicies() []byte { return slices.Clone(defaultPolicies) }

// model is what the engine reads from the schema: the resolved schema for
// the validator, and per action the resource types it applies to.
type model struct {
	resolved    *resolved.Schema
	actions     map[string]actionInfo
	collections map[string]bool
}

type actionInfo struct {
	uid       cedar.EntityUID
	resources []string
}

var loadModel = sync.OnceValues(func() (*model, error) {
	var s schema.Schema
	s.SetFilename("schema.cedarschema")
	if err := s.UnmarshalCedar(schemaText); err != nil {
		return nil, fmt.Errorf("parse schema: %w", err)
	}
	r, err := s.Resolve()
	if err != nil {
		return nil, fmt.Errorf("resolve schema: %w", err)
	}

	m := &model{
		resolved:    r,
		actions:     make(map[string]actionInfo, len(r.Actions)),
		collections: make(map[string]bool),
	}
	for uid, a := range r.Actions {
		info := actionInfo{uid: uid}
		if a.AppliesTo != nil {
			for _, t := range a.AppliesTo.Resources {
				info.resources = append(info.resources, strings.TrimPrefix(string(t), namespace))
			}
		}
		m.actions[string(uid.ID)] = info
	}
	for _, id := range r.Enums[namespace+TypeCollection].Values {
		m.collections[string(id.ID)] = true
	}
	return m, nil
})

// Actions lists the action ids of the schema, sorted.
func Actions() []string {
	m, err := loadModel()
	if err != nil {
		return nil
	}
	ids := make([]string, 0, len(m.actions))
	for id := range m.actions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// ResourceTypes returns the resource types an action applies to.
func ResourceTypes(action string) []string {
	m, err := loadModel()
	if err != nil {
		return nil
	}
	return slices.Clone(m.actions[action].resources)
}

// Collections lists the ids a Collection resource may have, sorted.
func Collections() []string {
	m, err := loadModel()
	if err != nil {
		return nil
	}
	ids := make([]string, 0, len(m.collections))
	for id := range m.collections {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
