#!/usr/bin/env bash
# npm test: every unit test (Vitest) and every demo (Playwright), then one summary line counted
# from both JSON reports. Exit status is nonzero when anything failed.
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p reports
rm -f reports/vitest.json reports/playwright.json

npm run build:wasm --silent
npx vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json
unit_rc=$?

npm run build --silent && PLAYWRIGHT_JSON_OUTPUT_NAME=reports/playwright.json npx playwright test --reporter=list,json
e2e_rc=$?

node scripts/summarize-tests.mjs reports/vitest.json reports/playwright.json
sum_rc=$?
exit $(( unit_rc || e2e_rc || sum_rc ))
