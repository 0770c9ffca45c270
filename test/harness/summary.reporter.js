'use strict';
/**
 * Tiny jest reporter: prints, as the very last line of the run,
 *   tests: 42 passed, 0 failed[, 3 skipped]
 * counting individual tests across all suites and projects. A suite that failed without a failing
 * test (compile error, throwing import, failing beforeAll/afterAll hook) counts as one failure, and
 * so does a run that exits non-zero without any counted failure (e.g. global setup/teardown threw).
 *
 * jest adds its own summary reporter after the custom ones and runs global teardown after
 * onRunComplete, so the line is written when the process exits (in watch mode: right away).
 */
class SummaryReporter {
  constructor(globalConfig) {
    this.watch = Boolean(globalConfig && (globalConfig.watch || globalConfig.watchAll));
    this.counts = undefined;
    if (!this.watch) process.once('exit', (code) => this.printAtExit(code));
  }

  onRunComplete(_testContexts, results) {
    let failed = results.numFailedTests || 0;
    for (const suite of results.testResults || []) {
      const suiteFailed = Boolean(suite.testExecError) || Boolean(suite.failureMessage);
      if (suiteFailed && !suite.numFailingTests) failed += 1;
    }
    if (results.runExecError) failed += 1;
    this.counts = {
      passed: results.numPassedTests || 0,
      failed,
      skipped: (results.numPendingTests || 0) + (results.numTodoTests || 0),
    };
    if (this.watch) this.print(this.counts);
  }

  printAtExit(code) {
    const exitCode = code || process.exitCode || 0;
    if (!this.counts && exitCode === 0) return; // no test run happened (e.g. --listTests)
    const counts = this.counts ? { ...this.counts } : { passed: 0, failed: 0, skipped: 0 };
    if (exitCode !== 0 && counts.failed === 0) counts.failed = 1;
    this.print(counts);
  }

  print({ passed, failed, skipped }) {
    process.stdout.write(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  }
}

module.exports = SummaryReporter;
