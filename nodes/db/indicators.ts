/** Indicator values: normalisation and the keyed hash that lets the node match without revealing. */
export { normaliseIndicator, indicatorHash } from '../../schema/contract/indicator.js';
