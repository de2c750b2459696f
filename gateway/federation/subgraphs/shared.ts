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

/** Budget types: the analyst subgraph returns them with answers, the platform subgraph with `myBudget`. */
export const BUDGET_TYPES_SDL = /* GraphQL */ `
"An amount of privacy loss: ρ of ρ-zCDP and δ."
type PrivacyAmount @shareable {
  rho: Float!
  delta: Float!
}

"The asking member's budget on one node for one ledger period (a calendar month, UTC)."
type NodeBudget @shareable {
  node: String!
  "Ledger period, YYYY-MM."
  period: String!
  "The member's allocation on this node for the period (set by platform staff)."
  allocation: PrivacyAmount!
  "What the member spent on this node this period."
  spent: PrivacyAmount!
  "allocation − spent."
  remaining: PrivacyAmount!
  "The node operator's cap for the whole federation this period."
  nodeCap: PrivacyAmount!
  "What remains of the node's cap this period (every member's queries count)."
  nodeRemaining: PrivacyAmount!
}
`;

/** The federation link every in-process subgraph uses. */
export const FEDERATION_LINK_SDL = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])';
