import { Document } from './payload-format';

/** A dotted field path (`location.site`) split once at validation. */
export type FieldPath = readonly string[];

type DocumentObject = { [field: string]: Document };

/** Problem with a dotted path as written in the configuration, or undefined when it is fine. */
export function fieldPathProblem(path: string): string | undefined {
  if (path.length === 0) return 'a field path cannot be empty';
  const segments = path.split('.');
  if (segments.some((s) => s.length === 0)) return `field path "${path}" has an empty segment (two dots, or a dot at an end)`;
  if (segments.some((s) => s === '__proto__' || s === 'constructor' || s === 'prototype')) return `field path "${path}" names a reserved field`;
  return undefined;
}

export function parseFieldPath(path: string): FieldPath {
  return path.split('.');
}

function isObject(value: Document | undefined): value is DocumentObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** The value at `path`, or undefined when a segment is missing or not an object. */
export function getField(document: Document, path: FieldPath): Document | undefined {
  let current: Document | undefined = document;
  for (const segment of path) {
    if (!isObject(current) || !Object.prototype.hasOwnProperty.call(current, segment)) return undefined;
    current = current[segment];
  }
  return current;
}

/**
 * Sets `path` in `document`, creating intermediate objects.
 * @returns false when an intermediate segment holds something that is not an object.
 */
export function setField(document: DocumentObject, path: FieldPath, value: Document): boolean {
  let current: DocumentObject = document;
  for (let i = 0; i < path.length - 1; i++) {
    const next: Document | undefined = Object.prototype.hasOwnProperty.call(current, path[i]) ? current[path[i]] : undefined;
    if (next === undefined) {
      const created: DocumentObject = {};
      current[path[i]] = created;
      current = created;
    } else if (isObject(next)) {
      current = next;
    } else {
      return false;
    }
  }
  current[path[path.length - 1]] = value;
  return true;
}

/** Removes `path` from `document`; returns the value removed, undefined when there was none. */
export function removeField(document: Document, path: FieldPath): Document | undefined {
  const parent = path.length === 1 ? document : getField(document, path.slice(0, -1));
  const last = path[path.length - 1];
  if (!isObject(parent) || !Object.prototype.hasOwnProperty.call(parent, last)) return undefined;
  const value = parent[last];
  delete parent[last];
  return value;
}

export { isObject as isDocumentObject };
