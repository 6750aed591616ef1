// Package policy is SecureCart's authorization layer: the Cedar schema, the
// default policies, an engine that decides requests quickly at any number
// of policies, and the masks applied to PII a caller may not see in clear.
//
// # Model
//
// Every request is a question in Cedar terms: may this principal perform
// this action on this resource, in this context? The schema
// (schema.cedarschema, namespace SecureCart) fixes the vocabulary:
//
//   - Principal: anyone who calls the API, with attributes kind ("person",
//     "service" or "customer") and id. A principal is a member ("in") of a
//     Role entity for each of its roles, such as SecureCart::Role::"dba".
//   - Resources: Customer {owner, classification}, Order {owner}, Product,
//     Transaction {order}, and Collection for what is not a row ("logs",
//     "keys", "payments", ...). owner is the id of the customer a row
//     belongs to; a customer principal's id is that same id.
//   - Actions: readCustomer, detokenize, managePolicies and the rest, each
//     applying to one resource type. Their ids are API: names.go lists them.
//   - Context: sourceIp, networks (the named networks the source address is
//     in), mfa, mtls, mtlsIdentity and time (Unix seconds).
//
// Lists name the row type and carry as Owner the owner they are limited to,
// "" for all rows, so that "a customer lists its own orders" is the same
// rule as "a customer reads its own order".
//
// # Policies
//
// Policies are Cedar text. Each has an @id annotation, unique in its set,
// which decisions report. New parses a set and validates every policy
// against the schema, so a misspelt action or attribute is an error when a
// set is loaded, not a silent denial later. Default is the default set
// (policies.cedar), which encodes the roles table of DESIGN.md: nothing is
// allowed unless a permit matches, and a matching forbid beats every permit.
// Admins who are people need MFA; an admin service (the bootstrap key) does
// not.
//
// A policy annotated @resource("c") is a resource policy: a forbid attached
// to collection c, whose resource scope must be that collection. It is
// evaluated with the identity policies like any other, so it only narrows
// what they permit. Load validates a set as New does, checks its resource
// policies, and describes each policy (scopes, roles and networks named)
// for the access analyzer (package analyze) and the policy commands.
//
// # Decisions
//
// Decide answers allow or deny, with the determining policies (the
// matching forbids of a denial, the matching permits of an allowance) and
// any evaluation errors. A request Cedar cannot be asked, such as an action
// on the wrong resource type, is denied with the reason in Errors.
//
// # The index
//
// Cedar evaluates every policy of a set on every request, so its cost grows
// with the set. The engine indexes each policy by its scope, read from the
// policy's AST: action ==/in, then the entity its principal scope names,
// or else the test its conditions open with when that is the principal's
// kind, MFA, mTLS or a network. The principal and resource scopes are then
// checked in full, and the conditions evaluated as far as the index can
// without Cedar: comparisons of attributes with literals or each other,
// has, like, in, is, isInRange, networks.contains, &&, || and !. Cedar
// evaluates only the policies the index could not decide, and the index
// adds those it found to match.
//
// The invariant: the index leaves out a policy only if Cedar would find
// it false without error on that request, and decides one only if Cedar
// would find it true without error. The decision, determining policies and
// errors are therefore Cedar's own on the whole set; a test compares them
// on thousands of random requests against the default set and against
// generated sets of 1,000 policies. The invariant rests on what the engine
// gives Cedar: no entities besides the principal and the resource, a
// principal whose only ancestors are its roles, and every attribute the
// schema declares, always set. The schema declares no action groups.
//
// # Masks
//
// MaskEmail, MaskPhone, MaskName and MaskAddress shorten PII for callers
// who may see that a value exists but not the value. A mask never returns
// a nonempty input unchanged; for input it cannot mask with confidence it
// returns Masked.
//
// # Limits
//
// The index evaluates only the expressions listed above; a policy whose
// condition uses others (arithmetic, if-then-else, set operations other
// than networks.contains, decimal or datetime functions, entity literals'
// attributes) is left to Cedar, at Cedar's cost, on the requests its scope
// matches. Validation uses cedar-go's experimental validator (x/exp).
package policy
