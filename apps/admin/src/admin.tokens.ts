/** Dependency-injection tokens of the admin app. */
export const KEY_SERVICE = Symbol('KEY_SERVICE');
export const AUTHENTICATOR = Symbol('AUTHENTICATOR');
export const FAILURE_LIMITER = Symbol('FAILURE_LIMITER');
export const AUDIT_LOG = Symbol('AUDIT_LOG');
export const CONTROL_PUBLISHER = Symbol('CONTROL_PUBLISHER');
