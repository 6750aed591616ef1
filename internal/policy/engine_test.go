package policy

import (
	"bytes"
	"net/netip"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	cedar "github.com/cedar-policy/cedar-go"
	"github.com/cedar-policy/cedar-go/x/exp/schema/resolved"
)

// TestSchemaActions checks that the schema declares exactly the actions
// the package names, and that each applies to one resource type.
func TestSchemaActions(t *testing.T) {
	want := []string{
		CreateCustomer, ReadCustomer, UpdateCustomer, ListCustomers, LookupCustomer,
		ExportCustomer, EraseCustomer, ReadPII, IssueCustomerToken,
		CreateProduct, ReadProduct, UpdateProduct, DeleteProduct, ListProducts,
		CreateOrder, ReadOrder, ListOrders, UpdateOrderStatus, ReadTransaction,
		Tokenize, Detokenize, DeleteCardToken, ReadLogs, ReadMetrics, ReadAudit, ReadFindings,
		ReadPolicies, ManagePolicies, RunAnalyzer, ReadKeyMetadata, ManageKeys,
		ManagePrincipals, ManageBackups,
	}
	slices.Sort(want)
	if got := Actions(); !slices.Equal(got, want) {
		t.Fatalf("schema actions:\n got %v\nwant %v", got, want)
	}
	for _, a := range want {
		if rt := ResourceTypes(a); len(rt) != 1 {
			t.Errorf("%s applies to %v, want one resource type", a, rt)
		}
	}
	for a, c := range collectionOf {
		if !slices.Contains(Collections(), c) || ResourceTypes(a)[0] != TypeCollection {
			t.Errorf("%s: collection %q is not in the schema", a, c)
		}
	}
}

// TestDefaultPoliciesValidate validates the default set against the
// schema, which New does for every set.
func TestDefaultPoliciesValidate(t *testing.T) {
	if _, err := New(DefaultPolicies()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(Schema(), []byte("namespace SecureCart")) {
		t.Error("Schema does not return the schema")
	}
}

func TestNewRejects(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string // a regular expression the error must match
	}{
		{"syntax", "@id(\"a\")\npermit (principal, action, resource);\n\n@id(\"b\")\npermit (principal action, resource);",
			`parse policies: .*5:25`},
		{"no id", "permit (principal, action, resource);",
			`no @id annotation`},
		{"empty id", "@id(\"\") permit (principal, action, resource);",
			`no @id annotation`},
		{"duplicate id", "@id(\"a\") permit (principal, action, resource);\n@id(\"a\") forbid (principal, action, resource);",
			`policy "a" at line 2, column 1: @id used twice`},
		{"unknown action", `@id("a") permit (principal, action == SecureCart::Action::"fly", resource);`,
			`validate policy "a" at line 1, column 1: .*unrecognized action`},
		{"unknown attribute", `@id("a") permit (principal, action, resource) when { principal.rank == 1 };`,
			`validate policy "a" .*attribute .rank.`},
		{"attribute of the wrong type", `@id("a") permit (principal, action, resource) when { context.mfa == 1 && context.time };`,
			`validate policy "a"`},
		{"too large", strings.Repeat(" ", MaxSourceBytes+1), `over the limit`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New([]byte(tt.src))
			if err == nil || !regexp.MustCompile(tt.want).MatchString(err.Error()) {
				t.Errorf("error %v, want one matching %q", err, tt.want)
			}
		})
	}
}

// TestDecideRefuses checks that requests Cedar cannot be asked are denied
// with a reason, whatever the policies say.
func TestDecideRefuses(t *testing.T) {
	allowAll, err := New([]byte(`@id("all") permit (principal, action, resource);`))
	if err != nil {
		t.Fatal(err)
	}
	ok := to(person("p", RoleDBA), ReadCustomer, "c-1")
	edit := func(f func(*Request)) Request {
		r := ok
		f(&r)
		return r
	}

	tests := []struct {
		name string
		req  Request
		want string
	}{
		{"no principal", edit(func(r *Request) { r.PrincipalID = "" }), "no principal"},
		{"unknown kind", edit(func(r *Request) { r.PrincipalKind = "robot" }), "principal kind"},
		{"no source", edit(func(r *Request) { r.Source = netip.Addr{} }), "source"},
		{"no time", edit(func(r *Request) { r.Time = time.Time{} }), "time"},
		{"unknown action", edit(func(r *Request) { r.Action = "fly" }), "unknown action"},
		{"wrong resource type", edit(func(r *Request) { r.ResourceType = TypeOrder }), "does not apply"},
		{"unknown collection", func() Request {
			r := to(person("p"), ReadLogs, "")
			r.ResourceID = "secrets"
			return r
		}(), "collection"},
	}

	if d := allowAll.Decide(ok); !d.Allow {
		t.Fatalf("valid request denied: %+v", d)
	}
	for _, tt := range tests {
		d := allowAll.Decide(tt.req)
		if d.Allow || len(d.Errors) != 1 || !strings.Contains(d.Errors[0], tt.want) {
			t.Errorf("%s: got %+v, want a denial naming %q", tt.name, d, tt.want)
		}
	}
}

// TestDecideContext checks that every context attribute reaches Cedar.
func TestDecideContext(t *testing.T) {
	e, err := New([]byte(`@id("ctx") permit (principal, action, resource is SecureCart::Customer) when {
  context.sourceIp.isInRange(ip("192.0.2.0/24")) &&
  context.mtlsIdentity == "psp-1" &&
  context.time == 1767268800 &&
  resource.classification == "pii" &&
  principal.id == "p"
};
@id("tx") permit (principal, action, resource is SecureCart::Transaction)
when { resource.order == "o-1" };`))
	if err != nil {
		t.Fatal(err)
	}
	r := to(overMTLS(person("p"), "psp-1"), ReadCustomer, "c-1")
	r.Source = netip.MustParseAddr("::ffff:192.0.2.9")
	if d := e.Decide(r); !d.Allow {
		t.Errorf("context not seen: %+v", d)
	}
	r.Source = netip.MustParseAddr("198.51.100.1")
	if d := e.Decide(r); d.Allow {
		t.Errorf("source address ignored: %+v", d)
	}
	if d := e.Decide(to(person("p"), ReadTransaction, "")); !slices.Equal(d.Policies, []string{"tx"}) {
		t.Errorf("transaction order not seen: %+v", d)
	}
}

// TestEncodeMatchesSchema checks that the attributes encode gives, which
// the index also reads, are the schema's.
func TestEncodeMatchesSchema(t *testing.T) {
	m, err := loadModel()
	if err != nil {
		t.Fatal(err)
	}
	attrs := func(rec map[cedar.String]resolved.Attribute) []string {
		var names []string
		for k, a := range rec {
			if a.Optional {
				t.Errorf("optional attribute %s: encode always sets every attribute", k)
			}
			names = append(names, string(k))
		}
		slices.Sort(names)
		return names
	}
	sorted := func(xs []string) []string { return slices.Sorted(slices.Values(xs)) }

	for typ, ent := range m.resolved.Entities {
		name := strings.TrimPrefix(string(typ), namespace)
		want := resourceAttrs[name]
		if name == "Principal" {
			want = principalAttrs
		}
		if got := attrs(ent.Shape); !slices.Equal(got, sorted(want)) {
			t.Errorf("%s: schema has %v, encode gives %v", name, got, want)
		}
	}
	for _, typ := range []string{TypeCustomer, TypeOrder, TypeProduct, TypeTransaction, TypeCollection} {
		for _, attr := range []string{"owner", "classification", "order", "id"} {
			_, got := resourceAttr(&Request{ResourceType: typ}, attr)
			if want := slices.Contains(resourceAttrs[typ], attr); got != want {
				t.Errorf("resourceAttr(%s, %s) has a value: %v, want %v", typ, attr, got, want)
			}
		}
	}
	for uid, a := range m.resolved.Actions {
		if got := attrs(a.AppliesTo.Context); !slices.Equal(got, sorted(contextAttrs)) {
			t.Errorf("%s: context %v, encode gives %v", uid, got, contextAttrs)
		}
	}
}
