// A mocha reporter for the conformance runner: every test's full title and outcome as JSON
// lines in $CONFORMANCE_RESULTS, and nothing on stdout that a suite's own logging could mix into.
'use strict';
const fs = require('node:fs');  // mocha itself is the suite's: events by name

class ConformanceReporter {
  constructor(runner) {
    const out = process.env.CONFORMANCE_RESULTS;
    fs.writeFileSync(out, '');
    const write = (test, state, err) => fs.appendFileSync(out, JSON.stringify({
      title: test.fullTitle(), state,
      error: err ? String(err.message || err).slice(0, 500) : undefined
    }) + '\n');
    runner.on('pass', test => write(test, 'passed'));
    runner.on('fail', (test, err) => write(test, 'failed', err));
    runner.on('pending', test => write(test, 'pending'));
  }
}
module.exports = ConformanceReporter;
