// pangeo-forge.org's situation: a page served from another origin reads this server with
// fetch(), as the site's src/lib/endpoints.js does: the feedstock list, one feedstock (with
// the trailing slash its og:image route uses), the recipe runs, an unknown id (a JSON 404
// the page can read), a GraphQL POST with `Authorization`, which needs a preflight, and the
// dataset preview `/repr/xarray/?url=<store>` (the URL unencoded, as the site sends it),
// whose HTML the page inserts as the site does (innerHTML). Headless Chromium enforces CORS;
// the page renders what it could read, and the rendered DOM is checked.
//
//   PFO_URL=http://127.0.0.1:PORT PFO_ADMIN_KEY=… [PFO_REPR_STORE=file:///…/gpcp.zarr
//   PFO_REPR_MARKUP_STORE=file:///…/markup.zarr] node tests/cross-origin.mjs

import { createServer } from 'node:http';
import { chromium } from 'playwright-core';
import { BASE_URL, run, step } from './lib.mjs';

const PAGE = `<!doctype html><html><body><ul id="out"></ul><script>
const api = ${JSON.stringify(BASE_URL)};
const key = ${JSON.stringify(process.env.PFO_ADMIN_KEY ?? '')};
const stores = ${JSON.stringify([process.env.PFO_REPR_STORE ?? '', process.env.PFO_REPR_MARKUP_STORE ?? ''])};
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
    for (const [n, store] of stores.entries()) {
      if (!store) continue;
      const repr = await fetch(api + '/repr/xarray/?url=' + store);
      const body = await repr.json();
      show('repr-status-' + n, repr.status + ' ' + body.dataset);
      const box = document.createElement('div');
      box.id = 'repr-' + n;
      box.innerHTML = body.html;
      document.body.append(box);
    }
  } catch (e) {
    show('error', String(e));
  }
  show('done', 'done');
})();
</script></body></html>`;

// The previews as a person sees them: xarray's layout visible (its styles applied), the
// variables and dimensions readable, attributes with markup shown as text and never run.
async function checkPreviews(page, text) {
  const status = await text('repr-status-0');
  if (status !== `200 ${process.env.PFO_REPR_STORE}`) throw new Error(`the preview failed: ${status}`);
  const wrap = page.locator('#repr-0 .xr-wrap');
  if (!(await wrap.isVisible())) throw new Error('the preview is hidden: its stylesheet did not apply');
  if (await page.locator('#repr-0 .xr-text-repr-fallback').isVisible()) throw new Error('the text fallback shows beside the HTML');
  const seen = await wrap.innerText();
  for (const wanted of ['xarray.Dataset', 'Dimensions:', 'lat: 180', 'time: 3', 'Coordinates:', 'Data variables:',
    'precip', 'lat_bounds', '(time, lat, lon)', 'datetime64[ns]', 'days since 1996-10-01', 'float32',
    'dask.array<chunksize=(1, 180, 360), meta=np.ndarray>', 'GPCP Daily (a test copy)']) {
    if (!seen.includes(wanted)) throw new Error(`the preview does not show ${JSON.stringify(wanted)}:\n${seen}`);
  }
  // A variable's attributes open on a click, as in a notebook.
  await page.locator('#repr-0 .xr-var-item', { hasText: 'precip' }).locator('label[title="Show/Hide attributes"]').click();
  const opened = await wrap.innerText();
  if (!opened.includes('Daily Precipitation')) throw new Error(`the attributes did not open:\n${opened}`);
  const markup = await page.locator('#repr-1 .xr-wrap').innerText();
  if (!markup.includes('<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>')) {
    throw new Error(`the markup attribute is not shown as text:\n${markup}`);
  }
  const pwned = await page.evaluate(() => window.pwned);
  if (pwned !== undefined) throw new Error(`an attribute's markup ran (window.pwned = ${pwned})`);
  if (await page.locator('#repr-1 img').count()) throw new Error('an attribute became an <img>');
  step(`previews rendered: ${seen.split('\n').length} lines; markup shown as text, not run`);
}

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
    if (process.env.PFO_REPR_STORE) await checkPreviews(page, text);
  } finally {
    await browser.close();
    site.close();
  }
});
