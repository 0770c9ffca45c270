import { PipeTransform } from '@nestjs/common';
import { InvalidRequestError } from '@app/admin';
import { isValidKeyName, KEY_NAME_MAX_LENGTH, MAX_KEY_VERSION } from '@app/crypto';

/**
 * `:name`: a key name, or 400. "." and ".." are refused: they are dot segments that clients
 * normalise away, so the request would reach another route than the one meant.
 */
export class KeyNameParam implements PipeTransform<string, string> {
  transform(value: string): string {
    if (!isValidKeyName(value) || value === '.' || value === '..') {
      throw new InvalidRequestError([{ field: 'name', message: `must be 1..${KEY_NAME_MAX_LENGTH} characters of [A-Za-z0-9._-], not "." or ".."` }]);
    }
    return value;
  }
}

/** `:version`: a key version number, or 400. */
export class VersionParam implements PipeTransform<string, number> {
  transform(value: string): number {
    const n = /^[1-9][0-9]{0,9}$/.test(value) ? Number(value) : NaN;
    if (!(n >= 1 && n <= MAX_KEY_VERSION)) throw new InvalidRequestError([{ field: 'version', message: `must be an integer from 1 to ${MAX_KEY_VERSION}` }]);
    return n;
  }
}
