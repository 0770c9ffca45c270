/**
 * What the demo expected and did not see. It keeps going after a miss, so one run shows every
 * missing piece, and exits non-zero at the end.
 */
export class DemoChecks {
  private readonly misses: string[] = [];

  expect(condition: boolean, what: string): boolean {
    if (!condition) this.misses.push(what);
    return condition;
  }

  miss(what: string): void {
    this.misses.push(what);
  }

  get failures(): readonly string[] {
    return this.misses;
  }
}
