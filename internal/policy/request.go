package policy

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/securecart/securecart/internal/classify"
)

// Request asks whether a principal may perform an action on a resource in a
// context. The engine turns it into a Cedar request and the entities
// Cedar needs: the principal, member of its roles, and the resource.
type Request struct {
	PrincipalID   string
	PrincipalKind string // KindPerson, KindService or KindCustomer
	Roles         []string

	Action string // an action id such as ReadCustomer

	ResourceType string // TypeCustomer, TypeOrder, ...
	ResourceID   string
	// Owner is, for a Customer or an Order, the id of the customer it
	// belongs to. A list request carries the owner it is restricted to, or
	// "" when it lists every owner's rows.
	Owner          string
	Classification string // Customer only
	Order          string // Transaction only: the order it pays for

	Source       netip.Addr
	Networks     []string // named networks Source is in
	MFA          bool
	MTLS         bool
	MTLSIdentity string // "" without a client certificate
	Time         time.Time
}

// Decision is the engine's answer. Policies holds the @id of the policies
// that determined it: the matching forbids of a denial, or the matching
// permits of an allowance; it is empty when nothing matched. Errors lists
// policies whose evaluation failed, which Cedar then ignores, and requests
// the engine refused before evaluation. Both are sorted.
type Decision struct {
	Allow    bool
	Policies []string
	Errors   []string
}

var (
	errNoPrincipal = errors.New("no principal id")
	errNoSource    = errors.New("no source address")
	errNoTime      = errors.New("no request time")
)

// query is a Request in Cedar's terms: the entity ids the index looks up,
// then, when Cedar has policies to evaluate, its request and entities.
type query struct {
	r         *Request
	principal cedar.EntityUID
	roles     []cedar.EntityUID
	action    cedar.EntityUID
	resource  cedar.EntityUID
	source    cedar.IPAddr
	leads     []lead

	cedar    cedar.Request
	entities cedar.EntityMap
}

func newQuery(m *model, r *Request) (*query, error) {
	q := new(query)
	return q, q.load(m, r)
}

// load points q at r, reusing q's memory.
func (q *query) load(m *model, r *Request) error {
	if err := check(m, r); err != nil {
		return err
	}

	src := r.Source.Unmap()
	*q = query{
		r:         r,
		principal: cedar.NewEntityUID(namespace+"Principal", cedar.String(r.PrincipalID)),
		roles:     q.roles[:0],
		leads:     leads(r, q.leads[:0]),
		action:    m.actions[r.Action].uid,
		resource:  cedar.NewEntityUID(resourceType(r.ResourceType), cedar.String(r.ResourceID)),
		source:    cedar.IPAddr(netip.PrefixFrom(src, src.BitLen())),
	}
	for _, role := range r.Roles {
		uid := cedar.NewEntityUID(namespace+"Role", cedar.String(role))
		if !slices.Contains(q.roles, uid) {
			q.roles = append(q.roles, uid)
		}
	}
	return nil
}

// encode builds what Cedar reads: the principal, member of its roles, the
// resource, and the context.
func (q *query) encode() {
	r := q.r
	q.entities = cedar.EntityMap{
		q.principal: {
			UID:     q.principal,
			Parents: cedar.NewEntityUIDSet(q.roles...),
			Attributes: cedar.NewRecord(cedar.RecordMap{
				"kind": cedar.String(r.PrincipalKind),
				"id":   cedar.String(r.PrincipalID),
			}),
		},
		q.resource: {UID: q.resource, Attributes: resourceAttributes(r)},
	}
	q.cedar = cedar.Request{
		Principal: q.principal,
		Action:    q.action,
		Resource:  q.resource,
		Context:   q.context(),
	}
}

func check(m *model, r *Request) error {
	switch {
	case r.PrincipalID == "":
		return errNoPrincipal
	case r.PrincipalKind != KindPerson && r.PrincipalKind != KindService &&
		r.PrincipalKind != KindCustomer:
		return fmt.Errorf("unknown principal kind %q", r.PrincipalKind)
	case !r.Source.IsValid():
		return errNoSource
	case r.Time.IsZero():
		return errNoTime
	}

	a, ok := m.actions[r.Action]
	if !ok {
		return fmt.Errorf("unknown action %q", r.Action)
	}
	if !slices.Contains(a.resources, r.ResourceType) {
		return fmt.Errorf("action %s does not apply to resource type %q", r.Action, r.ResourceType)
	}
	if r.ResourceType == TypeCollection && !m.collections[r.ResourceID] {
		return fmt.Errorf("unknown collection %q", r.ResourceID)
	}
	return nil
}

// resourceType returns the namespaced type without building the string.
func resourceType(t string) cedar.EntityType {
	switch t {
	case TypeCustomer:
		return namespace + TypeCustomer
	case TypeOrder:
		return namespace + TypeOrder
	case TypeProduct:
		return namespace + TypeProduct
	case TypeTransaction:
		return namespace + TypeTransaction
	case TypeCollection:
		return namespace + TypeCollection
	}
	return cedar.EntityType(namespace + t)
}

// The attributes encode gives entities and the context, as the schema
// declares them. The index reads the same values (cond.go).
var (
	principalAttrs = []string{"kind", "id"}
	contextAttrs   = []string{"sourceIp", "networks", "mfa", "mtls", "mtlsIdentity", "time"}
	resourceAttrs  = map[string][]string{
		TypeCustomer:    {"owner", "classification"},
		TypeOrder:       {"owner"},
		TypeTransaction: {"order"},
	}
)

// customerClass is the class of a customer record: the most sensitive
// class among its fields in the data map.
var customerClass = func() string {
	var top classify.Class
	for _, f := range classify.Table("customers") {
		top = max(top, f.Class)
	}
	return top.String()
}()

// Classification returns the value of the classification attribute that a
// resource of type t carries: for a customer, the class of a customer record
// in the data map ("pii"); for other types, which have no such attribute,
// "".
func Classification(t string) string {
	if t == TypeCustomer {
		return customerClass
	}
	return ""
}

// resourceAttr returns the value of a resource's attribute, and false if
// its type has no such attribute.
func resourceAttr(r *Request, name string) (string, bool) {
	switch {
	case name == "owner" && (r.ResourceType == TypeCustomer || r.ResourceType == TypeOrder):
		return r.Owner, true
	case name == "classification" && r.ResourceType == TypeCustomer:
		return r.Classification, true
	case name == "order" && r.ResourceType == TypeTransaction:
		return r.Order, true
	}
	return "", false
}

func resourceAttributes(r *Request) cedar.Record {
	names := resourceAttrs[r.ResourceType]
	if len(names) == 0 {
		return cedar.NewRecord(nil)
	}
	m := make(cedar.RecordMap, len(names))
	for _, name := range names {
		v, _ := resourceAttr(r, name)
		m[cedar.String(name)] = cedar.String(v)
	}
	return cedar.NewRecord(m)
}

func (q *query) context() cedar.Record {
	r := q.r
	networks := make([]cedar.Value, len(r.Networks))
	for i, n := range r.Networks {
		networks[i] = cedar.String(n)
	}
	return cedar.NewRecord(cedar.RecordMap{
		"sourceIp":     q.source,
		"networks":     cedar.NewSet(networks...),
		"mfa":          cedar.Boolean(r.MFA),
		"mtls":         cedar.Boolean(r.MTLS),
		"mtlsIdentity": cedar.String(r.MTLSIdentity),
		"time":         cedar.Long(r.Time.Unix()),
	})
}
