// The `graphql-http` package's server audits (GraphQL over HTTP spec conformance) against
// POST/GET /graphql. Every MUST and SHOULD must pass; a MAY that fails is printed and
// allowed only when docs/assumptions.md names it (ALLOWED_MAY below, with the reason there).
//
//   PFO_URL=http://127.0.0.1:PORT node tests/graphql-http-audit.mjs

import { auditServer } from 'graphql-http';
import { BASE_URL, run, step } from './lib.mjs';

/** MAY audits we knowingly leave failing: see docs/assumptions.md ("GraphQL over HTTP"). */
const ALLOWED_MAY = new Set([]);

run(async () => {
  const results = await auditServer({ url: `${BASE_URL}/graphql`, fetchFn: fetch });
  const failures = [];
  for (const result of results) {
    const level = result.name.split(' ')[0];
    if (result.status === 'ok') continue;
    const line = `${result.status.toUpperCase()} ${result.id} ${result.name}: ${result.reason}`;
    if (level === 'MAY' && ALLOWED_MAY.has(result.id)) {
      step(`allowed ${line}`);
    } else {
      failures.push(line);
    }
  }
  const passed = results.filter((r) => r.status === 'ok').length;
  step(`${passed} of ${results.length} audits passed`);
  if (failures.length) throw new Error(`graphql-http audits failed:\n${failures.join('\n')}`);
});
