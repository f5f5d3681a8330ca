// The recipe-runs dashboard served at `GET /`: the 50 most recent runs, a feedstock
// filter, and live status badges from the `recipeRunUpdated` subscription (no polling).

import { LiveSubscription, wsUrl } from './live';

interface Run {
  id: number;
  recipeId: string;
  status: string;
  conclusion: string | null;
  startedAt: string;
  updatedAt: string;
  feedstock: { id: number; spec: string };
  bakery: { name: string };
}

const LIMIT = 50;

const RUN_FIELDS = `fragment RunFields on RecipeRun {
  id recipeId status conclusion startedAt updatedAt feedstock { id spec } bakery { name }
}`;

const RUNS_QUERY = `query DashboardRuns($filter: RecipeRunFilter) {
  recipeRuns(first: ${LIMIT}, orderBy: {field: STARTED_AT, direction: DESC}, filter: $filter) {
    totalCount
    nodes { ...RunFields }
  }
  latest: recipeRuns(first: 1, orderBy: {field: UPDATED_AT, direction: DESC}, filter: $filter) {
    nodes { updatedAt }
  }
}
${RUN_FIELDS}`;

const FEEDSTOCKS_QUERY = `query DashboardFeedstocks {
  feedstocks(first: 100, orderBy: {field: SPEC, direction: ASC}) { nodes { id spec } }
}`;

const RUNS_SUBSCRIPTION = `subscription DashboardLive($feedstockId: Int, $since: DateTime) {
  recipeRunUpdated(feedstockId: $feedstockId, since: $since) { ...RunFields }
}
${RUN_FIELDS}`;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** The rows on screen, newest start first, and their `<tr>` by run id. */
let runs: Run[] = [];
const rows = new Map<number, HTMLTableRowElement>();
/** The newest `updatedAt` seen (sent as `since` on every (re)subscription). */
let newest: string | null = null;
let feedstockId: number | null = null;
let live: LiveSubscription | null = null;
/** Bumped on every filter change so late answers for an old filter are dropped. */
let generation = 0;
/** How many runs match the filter, and the highest run id seen (new runs get higher ids). */
let total = 0;
let maxId = 0;

async function graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const response = await fetch('/graphql', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (body.errors?.length) throw new Error(body.errors.map((e: any) => e.message).join('; '));
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return body.data as T;
}

/** An RFC 3339 time as a sortable (milliseconds of whole seconds, nanoseconds) pair. */
function timeKey(value: string): [number, number] {
  const m = /^(.*?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/i.exec(value);
  if (!m) return [Date.parse(value) || 0, 0];
  return [Date.parse(m[1] + m[3]) || 0, Number((m[2] ?? '').padEnd(9, '0').slice(0, 9))];
}

function compareTimes(a: string, b: string): number {
  const [x, y] = [timeKey(a), timeKey(b)];
  return x[0] - y[0] || x[1] - y[1];
}

function noteSeen(updatedAt: string | undefined | null): void {
  if (updatedAt && (newest === null || compareTimes(updatedAt, newest) > 0)) newest = updatedAt;
}

function showError(message: string | null): void {
  const el = $<HTMLParagraphElement>('error');
  el.hidden = message === null;
  el.textContent = message ?? '';
}

function cell(tr: HTMLTableRowElement, index: number, className: string): HTMLTableCellElement {
  while (tr.cells.length <= index) tr.insertCell();
  const td = tr.cells[index];
  td.className = className;
  return td;
}

function badge(text: string, className: string, attribute: string): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = `badge ${className}`;
  span.setAttribute(attribute, text);
  span.textContent = text;
  return span;
}

function time(value: string): HTMLTimeElement {
  const el = document.createElement('time');
  el.dateTime = value;
  el.title = value;
  const date = new Date(value);
  el.textContent = Number.isNaN(date.getTime()) ? value : date.toLocaleString();
  return el;
}

/** Fills (or refills) one row; flashes it when its status or conclusion changed. */
function fill(tr: HTMLTableRowElement, run: Run): void {
  const before = tr.dataset.status;
  const changed = before !== undefined && (before !== run.status || tr.dataset.conclusion !== (run.conclusion ?? ''));
  tr.dataset.runId = String(run.id);
  tr.dataset.status = run.status;
  tr.dataset.conclusion = run.conclusion ?? '';
  const link = document.createElement('a');
  link.href = `/recipe_runs/${run.id}`;
  link.title = 'This run as JSON';
  link.textContent = `#${run.id}`;
  cell(tr, 0, 'id').replaceChildren(link);
  cell(tr, 1, 'recipe').textContent = run.recipeId;
  cell(tr, 2, 'feedstock').textContent = run.feedstock.spec;
  cell(tr, 3, 'bakery').textContent = run.bakery.name;
  cell(tr, 4, 'status').replaceChildren(badge(run.status, 'status', 'data-status'));
  cell(tr, 5, 'conclusion').replaceChildren(
    ...(run.conclusion ? [badge(run.conclusion, 'conclusion', 'data-conclusion')] : []),
  );
  cell(tr, 6, 'started').replaceChildren(time(run.startedAt));
  cell(tr, 7, 'updated').replaceChildren(time(run.updatedAt));
  if (changed) {
    tr.classList.remove('changed');
    void tr.offsetWidth; // restart the animation
    tr.classList.add('changed');
  }
}

function byStartDesc(a: Run, b: Run): number {
  return compareTimes(b.startedAt, a.startedAt) || b.id - a.id;
}

/** Puts `runs` on screen, reusing each run's row (updated in place, never rebuilt). */
function render(): void {
  const body = $<HTMLTableElement>('runs').tBodies[0];
  const keep = new Set(runs.map((r) => r.id));
  for (const [id, tr] of rows) {
    if (!keep.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  runs.forEach((run, index) => {
    let tr = rows.get(run.id);
    if (!tr) {
      tr = document.createElement('tr');
      rows.set(run.id, tr);
    }
    fill(tr, run);
    if (body.rows[index] !== tr) body.insertBefore(tr, body.rows[index] ?? null);
  });
  $('empty').hidden = runs.length > 0;
}

/** A run from the subscription: replaces its row, or adds it in start order. */
function upsert(run: Run): void {
  noteSeen(run.updatedAt);
  if (feedstockId !== null && run.feedstock.id !== feedstockId) return;
  const index = runs.findIndex((r) => r.id === run.id);
  if (index >= 0) runs[index] = run;
  else runs.push(run);
  if (run.id > maxId) {
    maxId = run.id;
    total += 1;
    showCount();
  }
  runs.sort(byStartDesc);
  runs = runs.slice(0, LIMIT);
  render();
}

function showCount(): void {
  $('count').textContent = total === 1 ? '1 run' : `${total} runs`;
}

function setLive(state: string): void {
  const el = $('live');
  el.dataset.state = state;
  el.textContent = { connecting: 'connecting…', live: 'live', offline: 'offline, reconnecting…' }[state] ?? state;
}

/** Queries the runs of the current filter, then subscribes to their changes. */
async function load(): Promise<void> {
  const mine = ++generation;
  live?.stop();
  live = null;
  newest = null;
  const filter = feedstockId === null ? null : { feedstockId };
  try {
    const data = await graphql<{
      recipeRuns: { totalCount: number; nodes: Run[] };
      latest: { nodes: { updatedAt: string }[] };
    }>(RUNS_QUERY, { filter });
    if (mine !== generation) return;
    showError(null);
    runs = data.recipeRuns.nodes.slice().sort(byStartDesc);
    for (const run of runs) noteSeen(run.updatedAt);
    noteSeen(data.latest.nodes[0]?.updatedAt);
    total = data.recipeRuns.totalCount;
    maxId = Math.max(0, ...runs.map((r) => r.id));
    showCount();
    render();
  } catch (e) {
    if (mine === generation) showError(`Cannot load recipe runs: ${(e as Error).message}`);
    return;
  }
  live = new LiveSubscription(
    wsUrl('/graphql/ws'),
    RUNS_SUBSCRIPTION,
    () => ({ feedstockId, since: newest }),
    {
      next: (data) => {
        const run = (data as { recipeRunUpdated?: Run } | null)?.recipeRunUpdated;
        if (run) upsert(run);
      },
      error: (message) => showError(`Live updates: ${message}`),
      state: setLive,
    },
  );
  live.start();
}

async function loadFeedstocks(select: HTMLSelectElement): Promise<void> {
  try {
    const data = await graphql<{ feedstocks: { nodes: { id: number; spec: string }[] } }>(FEEDSTOCKS_QUERY);
    for (const f of data.feedstocks.nodes) {
      select.add(new Option(f.spec, String(f.id), false, f.id === feedstockId));
    }
  } catch (e) {
    showError(`Cannot load feedstocks: ${(e as Error).message}`);
  }
}

function main(): void {
  const select = $<HTMLSelectElement>('feedstock');
  const param = Number(new URLSearchParams(location.search).get('feedstock'));
  feedstockId = Number.isInteger(param) && param > 0 ? param : null;
  select.addEventListener('change', () => {
    feedstockId = select.value ? Number(select.value) : null;
    const url = new URL(location.href);
    if (feedstockId === null) url.searchParams.delete('feedstock');
    else url.searchParams.set('feedstock', String(feedstockId));
    history.replaceState(null, '', url);
    void load();
  });
  $('controls').addEventListener('submit', (e) => e.preventDefault());
  void loadFeedstocks(select);
  void load();
}

main();
