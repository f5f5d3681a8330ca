// The real `graphql-ws` npm client against ws://HOST/graphql/ws (graphql-transport-ws):
// it subscribes to `recipeRunUpdated` for a run this script creates, the script changes the
// run's status with admin mutations over HTTP, and the client must receive each change.
//
//   PFO_URL=http://127.0.0.1:PORT PFO_ADMIN_KEY=… node tests/graphql-ws-client.mjs

import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import { RUN_FIELDS, WS_URL, createRun, parents, run, step, updateRun, within } from './lib.mjs';

run(async () => {
  const where = await parents();
  const created = await createRun(`ws-client-${Date.now()}`, where);
  step(`created run ${created.id} (${created.status}) at ${created.updatedAt}`);

  let acknowledged = false;
  const client = createClient({
    url: WS_URL,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    on: { connected: () => (acknowledged = true) },
  });
  const received = [];
  const waiters = [];
  const seen = (status) => received.some((r) => r.status === status);
  const waitFor = (status) =>
    within(10_000, `recipeRunUpdated with status ${status} (got ${JSON.stringify(received)})`,
      new Promise((resolve, reject) => {
        if (seen(status)) return resolve();
        waiters.push({ status, resolve, reject });
      }));
  const failAll = (error) => waiters.splice(0).forEach((w) => w.reject(error));

  // Subscribe to this run only; `since` = its creation, so a change made before the
  // server has registered the subscription is replayed rather than lost.
  const unsubscribe = client.subscribe(
    {
      query: `subscription ($id: Int, $since: DateTime) { recipeRunUpdated(id: $id, since: $since) { ${RUN_FIELDS} } }`,
      variables: { id: created.id, since: created.updatedAt },
    },
    {
      next: (result) => {
        if (result.errors) return failAll(new Error(`errors: ${JSON.stringify(result.errors)}`));
        const got = result.data.recipeRunUpdated;
        step(`received run ${got.id}: ${got.status} ${got.conclusion ?? ''}`);
        if (got.id !== created.id) return failAll(new Error(`got run ${got.id}, subscribed to ${created.id}`));
        received.push(got);
        for (const w of waiters.filter((w) => seen(w.status))) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      },
      error: (e) => failAll(new Error(`subscription error: ${e?.message ?? JSON.stringify(e)}`)),
      complete: () => failAll(new Error('the server completed the subscription')),
    },
  );

  await within(10_000, 'connection_ack', (async () => {
    while (!acknowledged) await new Promise((r) => setTimeout(r, 20));
  })());
  step('connected (graphql-transport-ws acknowledged)');

  await updateRun(created.id, { status: 'IN_PROGRESS' });
  step('mutation: status IN_PROGRESS');
  await waitFor('IN_PROGRESS');

  await updateRun(created.id, { status: 'COMPLETED', conclusion: 'SUCCESS' });
  step('mutation: status COMPLETED, conclusion SUCCESS');
  await waitFor('COMPLETED');
  const last = received.at(-1);
  if (last.conclusion !== 'SUCCESS') throw new Error(`conclusion ${last.conclusion}, expected SUCCESS`);

  unsubscribe();
  await client.dispose();
  step(`OK: the graphql-ws client received ${received.length} updates of run ${created.id}`);
});
