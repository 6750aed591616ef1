package server

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
)

// requestBodies names the type each operation decodes its JSON body into.
var requestBodies = map[string]any{
	"POST /v1/customers":                    createCustomerIn{},
	"PATCH /v1/customers/{id}":              updateCustomerIn{},
	"POST /v1/customers/lookup":             lookupIn{},
	"POST /v1/products":                     createProductIn{},
	"PATCH /v1/products/{id}":               updateProductIn{},
	"POST /v1/orders":                       createOrderIn{},
	"POST /v1/orders/{id}/status":           orderStatusIn{},
	"POST /v1/principals":                   createPrincipalIn{},
	"POST /v1/principals/{id}/keys":         keyIn{},
	"POST /v1/principals/{id}/certificates": certIn{},
	"POST /v1/principals/{id}/password":     passwordIn{},
	"POST /v1/principals/{id}/totp/confirm": confirmTOTPIn{},
	"POST /v1/sessions":                     signInIn{},
	"POST /v1/payments/tokenize":            tokenizeIn{},
	"POST /v1/payments/detokenize":          detokenizeIn{},
	"POST /v1/policies":                     applyIn{},
	"POST /v1/policies/check":               policyCheckIn{},
	"POST /v1/backups/restore-record":       restoreRecordIn{},
	"POST /v1/keys/rewrap":                  rewrapIn{},
}

// refusedFields are decoded only to be refused with their own problem code
// (card verification codes, cvc_not_accepted), so the document does not
// offer them.
var refusedFields = map[string][]string{
	"POST /v1/payments/tokenize": {"csc", "cvc", "cvc2", "cvv", "cvv2", "security_code"},
}

// TestOpenAPIBodiesMatchDecoders checks each documented request body
// against the type its handler decodes, field by field and one level of
// nested objects down: the document names exactly the fields the decoder
// accepts (it refuses any other), and requires only fields it names.
func TestOpenAPIBodiesMatchDecoders(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPI, &doc); err != nil {
		t.Fatal(err)
	}
	schemas := doc["components"].(map[string]any)["schemas"].(map[string]any)
	resolve := func(s map[string]any) map[string]any {
		if ref, ok := s["$ref"].(string); ok {
			return schemas[strings.TrimPrefix(ref, "#/components/schemas/")].(map[string]any)
		}
		return s
	}

	documented := map[string]bool{}
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			body, ok := op.(map[string]any)["requestBody"].(map[string]any)
			if !ok {
				continue
			}
			name := strings.ToUpper(method) + " " + path
			documented[name] = true
			v, ok := requestBodies[name]
			if !ok {
				t.Errorf("%s documents a body this test does not know the type of", name)
				continue
			}
			media := body["content"].(map[string]any)["application/json"].(map[string]any)
			compareSchema(t, name, resolve(media["schema"].(map[string]any)), reflect.TypeOf(v), resolve)
		}
	}
	for name := range requestBodies {
		if !documented[name] {
			t.Errorf("%s decodes a body the document does not describe", name)
		}
	}
}

func compareSchema(t *testing.T, where string, schema map[string]any, typ reflect.Type,
	resolve func(map[string]any) map[string]any) {
	t.Helper()
	props, _ := schema["properties"].(map[string]any)
	if schema["additionalProperties"] != false {
		t.Errorf("%s: the schema allows unknown fields, which the decoder refuses", where)
	}
	fields := jsonFields(typ)
	var documented, decoded []string
	for p := range props {
		documented = append(documented, p)
	}
	for f := range fields {
		if !slices.Contains(refusedFields[where], f) {
			decoded = append(decoded, f)
		}
	}
	sort.Strings(documented)
	sort.Strings(decoded)
	if !slices.Equal(documented, decoded) {
		t.Errorf("%s: documented fields %v, decoded fields %v", where, documented, decoded)
	}
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			if _, ok := fields[r.(string)]; !ok {
				t.Errorf("%s: requires %v, which the decoder does not read", where, r)
			}
		}
	}
	for name, ft := range fields {
		p, ok := props[name].(map[string]any)
		if !ok {
			continue
		}
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		if sub := resolve(p); ft.Kind() == reflect.Struct && sub["properties"] != nil {
			compareSchema(t, where+" ."+name, sub, ft, resolve)
		}
	}
}

// jsonFields returns the names encoding/json decodes into typ's fields,
// with embedded structs' fields promoted.
func jsonFields(typ reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range typ.NumField() {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		if f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct {
			for n, t := range jsonFields(f.Type) {
				out[n] = t
			}
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}
