// Shared by the Node tests: where the server is, GraphQL over HTTP, admin mutations.
//
// Environment: PFO_URL (default http://127.0.0.1:3000), PFO_ADMIN_KEY (an entry of the
// server's PFO_ADMIN_API_KEYS; needed for mutations).

export const BASE_URL = (process.env.PFO_URL ?? 'http://127.0.0.1:3000').replace(/\/$/, '');
export const WS_URL = BASE_URL.replace(/^http/, 'ws') + '/graphql/ws';
const ADMIN_KEY = process.env.PFO_ADMIN_KEY ?? '';

export const RUN_FIELDS = 'id recipeId status conclusion updatedAt feedstock { id spec } bakery { name }';

/** Runs a GraphQL operation over HTTP; throws on errors. */
export async function gql(query, variables = {}, { admin = false } = {}) {
  const headers = { 'Content-Type': 'application/json', Accept: 'application/json' };
  if (admin) headers.Authorization = `Bearer ${ADMIN_KEY}`;
  const response = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.json();
  if (!response.ok || body.errors?.length) {
    throw new Error(`GraphQL failed (HTTP ${response.status}): ${JSON.stringify(body.errors ?? body)}`);
  }
  return body.data;
}

/** A bakery and a feedstock to attach runs to (the first of each; created when none). */
export async function parents() {
  const data = await gql('{ bakeries(first: 1) { nodes { id } } feedstocks(first: 1) { nodes { id spec } } }');
  let bakeryId = data.bakeries.nodes[0]?.id;
  if (bakeryId === undefined) {
    const created = await gql(
      'mutation { createBakery(input: {name: "node-test-bakery", region: "local", description: "made by web-playground/tests"}) { id } }',
      {},
      { admin: true },
    );
    bakeryId = created.createBakery.id;
  }
  let feedstock = data.feedstocks.nodes[0];
  if (feedstock === undefined) {
    const created = await gql(
      'mutation { createFeedstock(input: {spec: "node-tests/test-feedstock"}) { id spec } }',
      {},
      { admin: true },
    );
    feedstock = created.createFeedstock;
  }
  return { bakeryId, feedstockId: feedstock.id, spec: feedstock.spec };
}

/** Records a fresh QUEUED run (admin). */
export async function createRun(recipeId, { bakeryId, feedstockId }) {
  const data = await gql(
    `mutation ($input: CreateRecipeRunInput!) { createRecipeRun(input: $input) { ${RUN_FIELDS} } }`,
    { input: { recipeId, bakeryId, feedstockId, headSha: 'a'.repeat(40), status: 'QUEUED' } },
    { admin: true },
  );
  return data.createRecipeRun;
}

/** Changes a run (admin), e.g. `{status: 'IN_PROGRESS'}`. */
export async function updateRun(id, input) {
  const data = await gql(
    `mutation ($id: Int!, $input: UpdateRecipeRunInput!) { updateRecipeRun(id: $id, input: $input) { ${RUN_FIELDS} } }`,
    { id, input },
    { admin: true },
  );
  return data.updateRecipeRun;
}

/** Logs one step of a test. */
export function step(message) {
  console.log(`[${new Date().toISOString()}] ${message}`);
}

/** Rejects after `ms` with `what` unless `promise` settles first. */
export function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Runs `main`, exiting 1 with the error on failure. */
export function run(main) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(`FAILED: ${e?.stack ?? e}`);
      process.exit(1);
    },
  );
}
