// Headless Chromium (playwright-core) against the running server:
//  1. the dashboard at `/` shows a run this script creates at the top, and its badge goes
//     QUEUED → IN_PROGRESS → COMPLETED as the script changes it with admin mutations, with
//     no reload (the live subscription over /graphql/ws updates the row in place); at
//     1280 x 800 and 1024 x 768 the table fits the window (no sideways scroll);
//  2. after a dropped connection it resubscribes with `since` and catches up on the change
//     it missed while offline;
//  3. the feedstock filter re-queries and keeps following that feedstock's runs;
//  4. GraphiQL at `/graphql` runs a query and shows data, and its docs explorer shows the
//     schema (the standard introspection query is answered).
// Screenshots go to PFO_ARTIFACTS_DIR (default: <repo>/target/artifacts/).
//
//   PFO_URL=http://127.0.0.1:PORT PFO_ADMIN_KEY=… node tests/browser.mjs
// PFO_CHROMIUM overrides the browser (default /usr/bin/chromium).

import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE_URL, createRun, parents, run, step, updateRun } from './lib.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const artifacts = resolve(process.env.PFO_ARTIFACTS_DIR ?? join(here, '..', '..', 'target', 'artifacts'));
const TIMEOUT = 10_000;

run(async () => {
  mkdirSync(artifacts, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.PFO_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(TIMEOUT);
    const problems = [];
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('console', (m) => process.env.PFO_DEBUG && console.log(`console: ${m.text()}`));
    let navigations = 0;
    page.on('framenavigated', (frame) => frame === page.mainFrame() && navigations++);

    // Every dashboard websocket goes through here, so the test can drop it, refuse new ones
    // while "offline", and read what the page sends.
    const sockets = [];
    const subscribes = [];
    let offline = false;
    await page.routeWebSocket(/\/graphql\/ws$/, (ws) => {
      if (offline) return ws.close({ code: 1006, reason: 'offline (test)' });
      const server = ws.connectToServer();
      ws.onMessage((message) => {
        const parsed = JSON.parse(String(message));
        if (parsed.type === 'subscribe') subscribes.push(parsed.payload.variables);
        server.send(message);
      });
      sockets.push(ws);
    });

    // 1. The dashboard, live.
    const where = await parents();
    await page.goto(`${BASE_URL}/`);
    await page.locator('#live[data-state="live"]').waitFor();
    step('dashboard loaded and subscribed');
    await page.evaluate(() => (window.__sameDocument = true));

    const created = await createRun(`browser-${Date.now()}`, where);
    step(`created run ${created.id}`);
    const row = page.locator(`tr[data-run-id="${created.id}"]`);
    const badge = row.locator('td.status .badge');
    await expectText(badge, 'QUEUED');
    const firstId = await page.locator('#runs tbody tr').first().getAttribute('data-run-id');
    if (firstId !== String(created.id)) throw new Error(`the new run is not at the top (first row: ${firstId})`);
    step('new run appeared at the top, QUEUED');

    await updateRun(created.id, { status: 'IN_PROGRESS' });
    await expectText(badge, 'IN_PROGRESS');
    step('badge: IN_PROGRESS');

    const completed = await updateRun(created.id, { status: 'COMPLETED', conclusion: 'SUCCESS' });
    await expectText(badge, 'COMPLETED');
    await expectText(row.locator('td.conclusion .badge'), 'SUCCESS');
    step('badge: COMPLETED (SUCCESS)');

    const same = await page.evaluate(() => window.__sameDocument === true);
    if (!same || navigations !== 1) throw new Error(`the page reloaded (navigations: ${navigations})`);
    await page.screenshot({ path: join(artifacts, 'dashboard.png'), fullPage: false });
    step(`screenshot: ${join(artifacts, 'dashboard.png')}`);

    // The table fits common laptop widths: no sideways scroll, the last column on screen.
    for (const [width, height] of [[1280, 800], [1024, 768]]) {
      await page.setViewportSize({ width, height });
      const fit = await page.evaluate(() => {
        const last = document.querySelector('#runs thead th:last-child').getBoundingClientRect();
        const table = document.querySelector('#runs').getBoundingClientRect();
        return {
          scrollWidth: document.documentElement.scrollWidth,
          clientWidth: document.documentElement.clientWidth,
          tableRight: Math.ceil(table.right),
          lastRight: Math.ceil(last.right),
          lastText: document.querySelector('#runs thead th:last-child').innerText,
        };
      });
      const file = join(artifacts, `dashboard-${width}.png`);
      await page.screenshot({ path: file, fullPage: false });
      if (fit.scrollWidth > fit.clientWidth || fit.tableRight > fit.clientWidth || fit.lastRight > fit.clientWidth) {
        throw new Error(`at ${width} px the table does not fit (${JSON.stringify(fit)}); see ${file}`);
      }
      step(`at ${width}x${height} the table fits (right edge ${fit.tableRight} of ${fit.clientWidth} px, "${fit.lastText}" on screen)`);
    }
    await page.setViewportSize({ width: 1400, height: 900 });

    // 2. A dropped connection: the change made while offline arrives on resubscription.
    offline = true;
    await sockets.at(-1).close({ code: 1012, reason: 'dropped (test)' });
    await page.locator('#live[data-state="offline"]').waitFor();
    const missed = await createRun(`browser-missed-${Date.now()}`, where);
    step(`connection dropped; created run ${missed.id} while offline`);
    await page.waitForTimeout(300);
    if (await page.locator(`tr[data-run-id="${missed.id}"]`).count()) throw new Error('a change arrived while offline');
    const before = subscribes.length;
    offline = false;
    await expectText(page.locator(`tr[data-run-id="${missed.id}"] td.status .badge`), 'QUEUED');
    const resumed = subscribes.slice(before).at(-1);
    if (!resumed?.since || Date.parse(resumed.since) < Date.parse(completed.updatedAt)) {
      throw new Error(`resubscribed without since ≥ ${completed.updatedAt}: ${JSON.stringify(subscribes)}`);
    }
    step(`reconnected; resubscribed with since=${resumed.since} and caught up on run ${missed.id}`);

    // 3. The feedstock filter.
    await page.locator('#feedstock').selectOption(String(where.feedstockId));
    await page.waitForFunction(
      (spec) => [...document.querySelectorAll('#runs tbody td.feedstock')].every((td) => td.textContent === spec),
      where.spec,
    );
    await page.locator('#live[data-state="live"]').waitFor();
    if (!page.url().includes(`feedstock=${where.feedstockId}`)) throw new Error(`filter not in the URL: ${page.url()}`);
    const another = await createRun(`browser-filtered-${Date.now()}`, where);
    await expectText(page.locator(`tr[data-run-id="${another.id}"] td.status .badge`), 'QUEUED');
    await updateRun(another.id, { status: 'IN_PROGRESS' });
    await expectText(page.locator(`tr[data-run-id="${another.id}"] td.status .badge`), 'IN_PROGRESS');
    step(`filtered on ${where.spec}: rows match, live updates still arrive`);

    // 4. GraphiQL.
    await page.goto(`${BASE_URL}/graphql`);
    await page.locator('.graphiql-container').waitFor();
    await page.locator('.graphiql-execute-button').click();
    await page.locator('.graphiql-response').getByText('"recipeRuns"').waitFor();
    const response = await page.locator('.graphiql-response').innerText();
    if (!/"feedstocks":\s*\d+/.test(response)) throw new Error(`GraphiQL showed no data: ${response}`);
    await page.screenshot({ path: join(artifacts, 'graphiql.png') });
    step('GraphiQL ran the default query and shows data');
    // Its docs explorer is filled from the standard introspection query.
    await page.getByRole('button', { name: /documentation explorer/i }).click();
    await page.locator('.graphiql-doc-explorer').getByText('QueryRoot').first().waitFor({ timeout: 15_000 });
    await page.screenshot({ path: join(artifacts, 'graphiql-docs.png') });
    step('GraphiQL\'s docs explorer shows the schema (standard introspection answered)');

    if (problems.length) throw new Error(`browser problems:\n${problems.join('\n')}`);
    step('OK');
  } finally {
    await browser.close();
  }
});

/** Waits until `locator`'s text is exactly `text`. */
async function expectText(locator, text) {
  const deadline = Date.now() + TIMEOUT;
  let last = null;
  while (Date.now() < deadline) {
    last = await locator.textContent({ timeout: TIMEOUT }).catch(() => null);
    if (last === text) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`expected ${text}, saw ${last}`);
}
