import * as https from 'node:https';

/** The part of `fetch` the registry client uses; also the seam for unit specs. */
export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

/**
 * A `fetch` for https URLs that trusts the given CA certificates (PEM) instead of the system's:
 * Node's built-in fetch takes no CA option without the undici package, so this one goes
 * through node:https, with keep-alive, and answers with a standard Response.
 */
export function caTrustingFetch(ca: string | Buffer): FetchLike {
  const agent = new https.Agent({ ca, keepAlive: true });
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = new URL(url);
      if (target.protocol !== 'https:') {
        reject(new TypeError(`a CA is configured for the schema registry but its URL is ${target.protocol}, not https:`));
        return;
      }
      const request = https.request(target, { method: init.method, headers: init.headers, agent, signal: init.signal }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', reject);
        response.on('end', () => {
          const status = response.statusCode ?? 502;
          const headers = new Headers();
          for (const [name, value] of Object.entries(response.headers)) if (typeof value === 'string') headers.set(name, value);
          // A Response for 204/304 must not have a body.
          resolve(new Response(status === 204 || status === 304 ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      request.on('error', reject);
      request.end(init.body);
    });
}
