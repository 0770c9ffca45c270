import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, runBridge } from '../../../test/e2e/support/bridge.process';

/** `bridge test` as users run it in CI: its own process, no broker anywhere. */
describe('bridge test', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bridge-test-cmd-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const example = (name: string) => join(ROOT, 'config', name);

  it.each([
    ['bridge.example.yaml', 'bridge.example.cases.yaml'],
    ['transforms.example.yaml', 'transforms.example.cases.yaml'],
  ])('passes the cases shipped for %s', (config, cases) => {
    const run = runBridge(['test', example(config), example(cases)]);
    expect(run.stderr).toBe('');
    expect(run.stdout).not.toContain('FAIL');
    expect(run.stdout).toMatch(/^\d+ passed, 0 failed$/m);
    expect(run.status).toBe(0);
  });

  it('fails a wrong expectation with exit 1 and a per-field diff of what differs', () => {
    const cases = join(dir, 'wrong.cases.yaml');
    writeFileSync(
      cases,
      `keys:
  devices: { secret: 7OGmKC3x1kt4tDWq5vIDJ0wt2yVO+8B0X8bpbk1P3+g= }
  consumers: { secret: +BkueiRC1sPFbfZCk5EspindtzLHwZ8WBtg8x7XsME0= }
cases:
  - name: right
    topic: plant/berlin/th-3/reading
    json: { kind: env, t: -99 }
    sealWith: devices
    expect: { filtered: true }
  - name: wrong key and temperature
    topic: plant/berlin/th-1/reading
    json: { kind: env, t: 20 }
    sealWith: devices
    expect:
      outputs:
        - topic: plant.env
          key: th-2
          sealed: true
          json: { kind: env, temperature: 21, tempF: 68, site: berlin, device: th-1 }
  - name: expects a filter
    topic: plant/berlin/th-1/reading
    json: { kind: power, t: 20 }
    sealWith: devices
    expect: { filtered: true }
  - name: a command for the wrong device
    kafka: { topic: plant.commands, key: req-1 }
    json: { site: berlin, device: lamp-1, op: dim }
    expect:
      outputs:
        - topic: plant/berlin/lamp-2/cmd
          sealed: true
          json: { site: berlin, device: lamp-1, op: dim, level: 30, by: control, ref: req-1 }
`,
    );
    const run = runBridge(['test', example('transforms.example.yaml'), cases]);
    expect(run.status).toBe(1);
    expect(run.stdout).toContain('ok   right\n');
    expect(run.stdout).toContain(
      [
        'FAIL wrong key and temperature',
        '     (- expected, + actual)',
        '     outputs[0] (readings/kafka[0]) key:',
        '       - "th-2"',
        '       + "th-1"',
        '     outputs[0] (readings/kafka[0]) json:',
        '         ...',
        '           "site": "berlin",',
        '           "tempF": 68,',
        '       -   "temperature": 21',
        '       +   "temperature": 20',
        '         }',
      ].join('\n'),
    );
    expect(run.stdout).toContain(
      [
        'FAIL expects a filter',
        '     (- expected, + actual)',
        '     expected: filtered',
        '     actual:   output readings/kafka[0]: kafka topic plant.power key th-1 (sealed)',
      ].join('\n'),
    );
    // A Kafka record: the MQTT topic, and the payload opened with the devices' key bound to it.
    expect(run.stdout).toContain(
      [
        'FAIL a command for the wrong device',
        '     (- expected, + actual)',
        '     outputs[0] (commands/mqtt) topic:',
        '       - "plant/berlin/lamp-2/cmd"',
        '       + "plant/berlin/lamp-1/cmd"',
        '     outputs[0] (commands/mqtt) json:',
        '         ...',
        '           "by": "control",',
        '           "device": "lamp-1",',
        '       -   "level": 30,',
        '       +   "level": 100,',
        '           "op": "dim",',
        '           "ref": "req-1",',
      ].join('\n'),
    );
    expect(run.stdout).toMatch(/\n1 passed, 3 failed\n$/);
  });

  it('reports case-file problems with file, line and YAML path (exit 1), and a wrong call with the usage (exit 2)', () => {
    const cases = join(dir, 'bad.cases.yaml');
    writeFileSync(cases, `cases:\n  - name: bad\n    topic: plant/x\n    hex: "0g"\n    sealWith: nobody\n    expect: { filtered: true }\n`);
    const bad = runBridge(['test', example('transforms.example.yaml'), cases]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain(`invalid case file (1 problem):\n  ${cases}:4:10 cases[0].hex: expected hex digits, two per byte`);

    writeFileSync(cases, `cases:\n  - name: unknown key\n    topic: plant/x\n    text: hi\n    sealWith: nobody\n    expect: { filtered: true }\n`);
    const unknown = runBridge(['test', example('transforms.example.yaml'), cases]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain(`${cases}:5:15 cases[0].sealWith: no key "nobody": give it under keys (known: consumers, devices)`);

    const usage = runBridge(['test', example('transforms.example.yaml')]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain('test <file> <cases.yaml>');
  });
});
