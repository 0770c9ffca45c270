import { randomBytes } from 'node:crypto';

/** Signs and checks control events; MasterKey (purpose `control`) is one. */
export interface ControlSigner {
  sign(record: object, purpose: 'control'): string;
  verify(record: object, mac: string | undefined, purpose: 'control'): boolean;
}

/** A control event as it travels: its body plus when, a nonce and a MAC over all of it and its name. */
export interface SealedControlEvent {
  readonly body: object;
  readonly at: string;
  readonly nonce: string;
  readonly mac: string;
}

/** How far an event's time may be from the receiver's clock, either way. */
export const CONTROL_EVENT_WINDOW_MS = 60_000;

/**
 * Seals an event for the control broker. The MAC covers the event's name, so an event cannot be
 * replayed under another name, and its time and nonce, so it cannot be replayed later.
 */
export function sealControlEvent(name: string, body: object, signer: ControlSigner, now = Date.now()): SealedControlEvent {
  const at = new Date(now).toISOString();
  const nonce = randomBytes(16).toString('hex');
  return { body, at, nonce, mac: signer.sign({ name, body, at, nonce }, 'control') };
}

/**
 * Checks sealed control events on the worker side: the MAC, the time window and the nonce (each
 * accepted once). The control broker sits outside the key material's trust: anyone who can
 * publish there could otherwise make every worker reload.
 */
export class ControlEventVerifier {
  /** Nonces accepted within the window, oldest first (insertion order), with their expiry. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly signer: ControlSigner,
    private readonly maxNonces = 10_000,
  ) {}

  /** The event's body, or why it is refused. */
  open(name: string, event: unknown, now = Date.now()): { body: object } | { refused: string } {
    const sealed = event as Partial<SealedControlEvent> | null;
    if (
      !sealed ||
      typeof sealed !== 'object' ||
      typeof sealed.at !== 'string' ||
      typeof sealed.nonce !== 'string' ||
      typeof sealed.mac !== 'string' ||
      !sealed.body ||
      typeof sealed.body !== 'object'
    ) {
      return { refused: 'not a sealed control event (unsigned?)' };
    }
    const { body, at, nonce, mac } = sealed as SealedControlEvent;
    if (!this.signer.verify({ name, body, at, nonce }, mac, 'control')) return { refused: 'its MAC does not verify (signed with another key, or altered)' };
    const sent = Date.parse(at);
    if (!(Math.abs(now - sent) <= CONTROL_EVENT_WINDOW_MS))
      return { refused: `sent at ${at}, outside ${CONTROL_EVENT_WINDOW_MS / 1000} s of this worker's clock` };
    this.forgetExpired(now);
    if (this.seen.has(nonce)) return { refused: 'already received (a replay)' };
    if (this.seen.size >= this.maxNonces) return { refused: `more than ${this.maxNonces} events within ${CONTROL_EVENT_WINDOW_MS / 1000} s` };
    this.seen.set(nonce, sent + CONTROL_EVENT_WINDOW_MS);
    return { body };
  }

  private forgetExpired(now: number): void {
    for (const [nonce, expires] of this.seen) {
      if (expires >= now) continue;
      this.seen.delete(nonce);
    }
  }
}
