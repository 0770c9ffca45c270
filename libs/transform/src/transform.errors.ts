import { BridgeError } from '@app/core';

/**
 * The payload is not what the rule's `input` format says (not JSON, not CBOR, not UTF-8).
 * Never retried: the same bytes fail the same way.
 */
export class DecodeFailedError extends BridgeError {
  readonly retriable = false;
  readonly code = 'decode-failed';
}

/**
 * The decoded document does not match the rule's JSON Schema. The message names the JSON
 * pointer and the keyword that failed, never a value from the payload (it may be plaintext).
 */
export class SchemaInvalidError extends BridgeError {
  readonly retriable = false;
  readonly code = 'schema-invalid';

  constructor(
    /** JSON pointer of the failing value in the document, e.g. `/readings/0/t`. */
    readonly pointer: string,
    /** The JSON Schema keyword that failed, e.g. `maximum`. */
    readonly keyword: string,
    /** Where in the schema, e.g. `#/properties/readings/items/properties/t/maximum`. */
    readonly schemaPath: string,
  ) {
    super(`payload ${pointer === '' ? '(the document)' : pointer} fails "${keyword}" at ${schemaPath}`);
  }
}

/**
 * A step could not be applied to this message (an expression's type error, a missing field,
 * a result the output format cannot hold). The message names the step and the kind of
 * failure, never payload values.
 */
export class TransformFailedError extends BridgeError {
  readonly retriable = false;
  readonly code = 'transform-failed';
}
