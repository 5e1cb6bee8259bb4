// Prints the engine suite's closing line, exactly `N passed, N failed`, which .ci/run and people grep for.
// A run that could not start (build or server failure in global setup) counts as one failure, never as a pass.
import type { Reporter, TestModule } from 'vitest/node';

export class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    let passed = 0;
    let failed = 0;
    for (const testModule of testModules) {
      for (const test of testModule.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
      }
      // A module that failed to load (an error outside any test) is a failure too.
      if (
        testModule.state() === 'failed' &&
        !Array.from(testModule.children.allTests()).some((test) => test.result().state === 'failed')
      )
        failed++;
    }
    failed += unhandledErrors.length;
    if (passed === 0 && failed === 0) failed = 1;
    process.stdout.write(`${passed} passed, ${failed} failed\n`);
  }
}
