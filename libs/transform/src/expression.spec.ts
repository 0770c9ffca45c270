import { compileExpression, ExpressionError } from './expression';
import { TransformFailedError } from './transform.errors';

const vars = {
  payload: { t: 21.5, status: 'ok', secret: 'hunter2', loc: { lat: 52.5 } },
  topic: 'sites/berlin/th-1/telemetry',
  levels: ['sites', 'berlin', 'th-1', 'telemetry'],
  captures: { site: 'berlin' },
  qos: 1n,
  retain: false,
  rule: 'telemetry',
  clientId: 'bridge-1',
  receivedAt: new Date('2026-11-27T10:00:00Z'),
  properties: {},
  key: null,
  headers: {},
};

describe('compileExpression', () => {
  it('evaluates arithmetic, strings and conditions over the payload and the message facts', () => {
    expect(compileExpression('payload.t * 9.0 / 5.0 + 32.0').evaluate(vars, 'x')).toBeCloseTo(70.7);
    expect(compileExpression('captures.site + "/" + levels[2]').evaluate(vars, 'x')).toBe('berlin/th-1');
    expect(compileExpression('payload.t > -40.0 && payload.status == "ok"').evaluate(vars, 'x')).toBe(true);
    expect(compileExpression('qos == 1').evaluate(vars, 'x')).toBe(true);
    expect(compileExpression('has(payload.nope) ? 1 : 2').evaluate(vars, 'x')).toBe(2n);
  });

  it('knows the type of what a filter gives at validation', () => {
    expect(compileExpression('payload.t > 3.0').type).toBe('bool');
    expect(compileExpression('topic + "x"').type).toBe('string');
    expect(compileExpression('payload.t').type).toBe('dyn');
  });

  it('refuses a syntax error with its column', () => {
    const error = catchError(() => compileExpression('payload.t > > 3'));
    expect(error).toBeInstanceOf(ExpressionError);
    expect((error as ExpressionError).column).toBe(13);
    expect((error as ExpressionError).message).toBe('unexpected token: GT at column 13 of the expression');
  });

  it('refuses an unknown variable and a static type error at validation', () => {
    expect((catchError(() => compileExpression('payloud.t')) as Error).message).toBe('unknown variable: payloud at column 1 of the expression');
    expect((catchError(() => compileExpression('topic + 1')) as Error).message).toBe('no such overload: string + int at column 1 of the expression');
  });

  it('reports a failure on one message by kind and column, without the values it read', () => {
    const keyed = compileExpression('payload[payload.secret]');
    const error = catchError(() => keyed.evaluate(vars, 'steps[0].enrich.x'));
    expect(error).toBeInstanceOf(TransformFailedError);
    expect((error as Error).message).toBe('steps[0].enrich.x: no such key at column 1 of the expression');
    expect((error as Error).message).not.toContain('hunter2');
    const converted = catchError(() => compileExpression('int(payload.secret)').evaluate(vars, 'steps[1].map'));
    expect((converted as Error).message).toBe('steps[1].map: int conversion error at column 1 of the expression');
  });

  it('names the types, which hold no values, when an operator does not apply', () => {
    const error = catchError(() => compileExpression('payload.t * 9').evaluate(vars, 'f'));
    expect((error as Error).message).toBe('f: no such overload: dyn<double> * int at column 1 of the expression');
  });
});

function catchError(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  throw new Error('expected an error');
}
