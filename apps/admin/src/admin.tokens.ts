/** Dependency-injection tokens of the admin app. */
export const KEY_SERVICE = Symbol('KEY_SERVICE');
export const AUDIT_LOG = Symbol('AUDIT_LOG');
export const CONTROL_PUBLISHER = Symbol('CONTROL_PUBLISHER');
