import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** PEM files of a throw-away certificate authority and what it signed, in one directory. */
export interface TestPki {
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
  /** Another CA, which signed none of the above. */
  foreignCa: string;
}

/**
 * Makes a CA, a server certificate for `serverNames` (DNS names; the IP 127.0.0.1 only when
 * listed) and a client certificate, with openssl, in `dir`. EC keys: fast to make.
 */
export function makeTestPki(dir: string, serverNames: readonly string[]): TestPki {
  const file = (name: string) => path.join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string) => openssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', file(name));
  const authority = (name: string, subject: string) => {
    key(`${name}.key`);
    openssl('req', '-x509', '-new', '-key', file(`${name}.key`), '-subj', subject, '-days', '2', '-out', file(`${name}.crt`));
  };
  const issue = (name: string, subject: string, extensions: string) => {
    key(`${name}.key`);
    openssl('req', '-new', '-key', file(`${name}.key`), '-subj', subject, '-out', file(`${name}.csr`));
    fs.writeFileSync(file(`${name}.ext`), extensions);
    openssl(
      'x509',
      '-req',
      '-in',
      file(`${name}.csr`),
      '-CA',
      file('ca.crt'),
      '-CAkey',
      file('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      file(`${name}.ext`),
      '-out',
      file(`${name}.crt`),
    );
  };
  authority('ca', '/CN=bridge test CA');
  authority('foreign-ca', '/CN=someone else');
  const san = serverNames.map((n) => (/^\d+\.\d+\.\d+\.\d+$/.test(n) ? `IP:${n}` : `DNS:${n}`)).join(',');
  issue('server', `/CN=${serverNames[0]}`, `subjectAltName=${san}\nextendedKeyUsage=serverAuth\n`);
  issue('client', '/CN=bridge-control', 'extendedKeyUsage=clientAuth\n');
  for (const name of ['ca.key', 'foreign-ca.key', 'server.key', 'client.key']) fs.chmodSync(file(name), 0o600);
  return {
    ca: file('ca.crt'),
    serverCert: file('server.crt'),
    serverKey: file('server.key'),
    clientCert: file('client.crt'),
    clientKey: file('client.key'),
    foreignCa: file('foreign-ca.crt'),
  };
}
