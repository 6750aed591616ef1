// Package analyze computes what a policy set actually allows and checks it
// against SecureCart's guardrails, so that a policy change can be judged
// before it is applied.
//
// # The matrix
//
// Build evaluates the set with its own engine (the same code that decides
// live requests) for every combination of
//
//   - principal: each role the default policies know or the set names, as a
//     person and as a service, plus a principal with no role of each kind
//     and a customer (a shopper's token, no roles);
//   - action and resource type, as the schema pairs them; a collection
//     action on the collection the API addresses with it (detokenize on
//     payments, readAudit on audit); a Customer or Order row that is the
//     principal's own, another customer's, or a list of every owner's;
//   - context variant: inside or outside each named network (application,
//     payment and every network the set tests), with or without MFA, with
//     or without mTLS. MFA applies only to people; those cells of services
//     and customers read "-".
//
// A row prints its variants as one string: Y allowed, . denied.
//
// # Guardrails
//
// Analyze reports, as findings named by the Rule constants:
//
//   - unconstrained-permit: a permit for any action, or for any principal
//     with no condition for more than the public catalogue reads;
//   - pii-without-mfa: readPII or exportCustomer allowed to a person
//     without MFA;
//   - pii-outside-networks: the same allowed to a service outside the
//     networks its role is held to (app-service: application;
//     payment-provider: payment; other roles have none);
//   - card-data: detokenize allowed to anyone but the payment provider
//     over mTLS;
//   - developer-write: any action but a read allowed to the developer role;
//   - unknown-role: a permit that names a role the default policies do not
//     know;
//   - no-admin-path: no admin who is a person can manage principals and
//     policies with MFA in any context. This one is blocking: the policy
//     store refuses to apply such a set.
//
// # Comparing sets
//
// Compare builds both matrices over the union of the roles and networks
// the two sets name, and lists the cells the new set allows and the old
// one did not, and the reverse. It is exact over the matrix.
//
// # Unused grants
//
// A grant is a role's permission to an action on a resource type, allowed
// in at least one cell of the matrix. Exercised reads the uses of
// permissions (the records of allowed requests in the audit trail) and
// lists the grants none exercised: the candidates for removal, as with a
// cloud access analyzer's unused-access findings. A use with several
// roles credits those its determining policies name; readPII counts as
// used when a read returned customer or order fields in clear. A grant
// can be listed unused and still be needed for a rare task (a yearly
// export, break-glass access): the list is for a person to judge.
//
// # Limits
//
// The matrix is exact over what it enumerates and says nothing beyond it.
// It does not cover: attribute values other than those enumerated (a
// source address other than 192.0.2.1, so policies on sourceIp ranges are
// judged at that one address; a time other than 2026-01-01 12:00 UTC; a
// mTLS identity other than the principal's own id; a customer
// classification other than the one the API sends, policy.Classification);
// principals with several roles at once (a combination is covered when each
// policy tests role membership only positively, as the default set does);
// principals or resources named by
// id in a policy's scope; and collections other than the one the API
// addresses with each action. A network the set tests only through an
// expression other than networks.contains, containsAll or containsAny is
// not enumerated. Guardrail unconstrained-permit reads scopes only: a
// permit with an unconstrained resource is accepted, because every action
// applies to one resource type.
package analyze
