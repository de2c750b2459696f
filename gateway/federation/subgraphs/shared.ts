/** SDL fragments more than one subgraph defines; composition requires identical definitions. */

export const QUORUM_ENUM_SDL = /* GraphQL */ `
"How many member nodes must answer a query."
enum Quorum {
  "Every admitted member must answer, or the query fails with NODE_UNAVAILABLE (or CONTRIBUTION_INVALID)."
  STRICT
  "Answer over the members that answered; coverage lists the missing ones. Fails with NO_NODES when none answered."
  BEST_EFFORT
}
`;
