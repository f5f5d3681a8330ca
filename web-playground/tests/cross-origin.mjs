// pangeo-forge.org's situation: a page served from another origin reads this server with
// fetch(), as the site's src/lib/endpoints.js does: the feedstock list, one feedstock (with
// the trailing slash its og:image route uses), the recipe runs, an unknown id (a JSON 404
// the page can read), and a GraphQL POST with `Authorization`, which needs a preflight.
// Headless Chromium enforces CORS; the page renders what it could read.
//
//   PFO_URL=http://127.0.0.1:PORT PFO_ADMIN_KEY=… node tests/cross-origin.mjs

import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { BASE_URL, run, step } from './lib.mjs';

const PAGE = `<!doctype html><html><body><ul id="out"></ul><script>
const api = ${JSON.stringify(BASE_URL)};
const key = ${JSON.stringify(process.env.PFO_ADMIN_KEY ?? '')};
const show = (name, text) => {
  const li = document.createElement('li');
  li.id = name;
  li.textContent = text;
  document.getElementById('out').append(li);
};
(async () => {
  try {
    const feedstocks = await (await fetch(api + '/feedstocks/')).json();
    show('feedstocks', feedstocks.map((f) => f.spec).join(','));
    const one = await (await fetch(api + '/feedstocks/' + feedstocks[0].id + '/')).json();
    show('feedstock', one.spec + ' runs=' + one.recipe_runs.length);
    const runs = await (await fetch(api + '/recipe_runs/')).json();
    show('runs', 'runs=' + runs.length);
    const missing = await fetch(api + '/feedstocks/999999');
    show('missing', missing.status + ' ' + (await missing.json()).detail);
    const gql = await fetch(api + '/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: 'Bearer ' + key },
      body: JSON.stringify({ query: '{ stats { feedstocks } }' }),
    });
    show('graphql', 'feedstocks=' + (await gql.json()).data.stats.feedstocks);
  } catch (e) {
    show('error', String(e));
  }
  show('done', 'done');
})();
</script></body></html>`;

run(async () => {
  const site = createServer((_, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end(PAGE);
  });
  await new Promise((resolve) => site.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${site.address().port}`;
  const browser = await chromium.launch({
    executablePath: process.env.PFO_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${origin}/`);
    await page.locator('#done').waitFor({ timeout: 15_000 });
    const text = async (id) => ((await page.locator(`#${id}`).count()) ? page.locator(`#${id}`).innerText() : '');
    const error = await text('error');
    if (error) throw new Error(`the page on ${origin} could not read the API: ${error}`);
    const results = {};
    for (const id of ['feedstocks', 'feedstock', 'runs', 'missing', 'graphql']) results[id] = await text(id);
    if (!results.feedstocks.includes('pangeo-forge/')) throw new Error(`no feedstocks: ${JSON.stringify(results)}`);
    if (!/runs=\d+/.test(results.feedstock)) throw new Error(`no feedstock: ${JSON.stringify(results)}`);
    if (!results.missing.startsWith('404 ')) throw new Error(`the 404 was not readable: ${JSON.stringify(results)}`);
    if (!/feedstocks=\d+/.test(results.graphql)) throw new Error(`GraphQL failed: ${JSON.stringify(results)}`);
    step(`from ${origin}: ${JSON.stringify(results)}`);
  } finally {
    await browser.close();
    site.close();
  }
});
