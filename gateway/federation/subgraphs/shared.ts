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

"An (ε, δ)-differential-privacy statement."
type PrivacyLoss @shareable {
  epsilon: Float!
  delta: Float!
}

"The asking member's own budget on one node over the privacy horizon (a rolling window). Never another member's spending."
type NodeBudget @shareable {
  node: String!
  "Length of the trailing window every cap applies to, in days."
  horizonDays: Int!
  "The member's allocation on this node over the horizon (set by platform staff)."
  allocation: PrivacyAmount!
  "What the member's answers charged on this node within the horizon."
  spent: PrivacyAmount!
  "allocation − spent."
  remaining: PrivacyAmount!
  "spent as a cumulative (ε, δ) over the horizon (the deployment's δ for the conversion)."
  cumulative: PrivacyLoss!
  "Whether the node operator's cap (shared by every member) admits one more question of this charge (an answer: its own charge; myBudget: the default ρ). Never the amount."
  nodeCapAdmits: Boolean!
}

"The asking member's own federation-wide budget over the horizon (deployments where an organisation may be reported to several nodes)."
type FederationBudget @shareable {
  horizonDays: Int!
  "The member's federation-wide allocation over the horizon: every fresh answer charges it once, whatever nodes it asks."
  allocation: PrivacyAmount!
  spent: PrivacyAmount!
  remaining: PrivacyAmount!
  cumulative: PrivacyLoss!
  "Whether the federation cap (shared by every member) admits one more question at the default ρ. Never the amount."
  capAdmits: Boolean!
}
`;

/** The federation link every in-process subgraph uses. */
export const FEDERATION_LINK_SDL = 'extend schema @link(url: "https://specs.apollo.dev/federation/v2.7", import: ["@shareable"])';
