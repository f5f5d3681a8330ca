// Closing handshakes as the official clients see them: `graphql-ws` (over `ws`) and the
// legacy `subscriptions-transport-ws` each subscribe, then close; the close event must be a
// clean one with a close frame from the server (never 1006, "abnormal closure", which is
// what a client sees when the server drops the TCP connection instead of answering).
//
//   PFO_URL=http://127.0.0.1:PORT node tests/ws-close.mjs

import { createClient } from 'graphql-ws';
import { SubscriptionClient } from 'subscriptions-transport-ws';
import WebSocket from 'ws';
import { WS_URL, run, step, within } from './lib.mjs';

const RUNS = 'subscription { recipeRunUpdated { id status } }';

async function modernClient() {
  let closedEvent;
  const closed = new Promise((resolve) => (closedEvent = resolve));
  const connected = new Promise((resolve, reject) => {
    const client = createClient({
      url: WS_URL,
      webSocketImpl: WebSocket,
      retryAttempts: 0,
      on: { connected: () => resolve(client), closed: (event) => closedEvent(event), error: reject },
    });
    client.subscribe({ query: RUNS }, { next() {}, error: reject, complete() {} });
  });
  const client = await within(10_000, 'graphql-ws connection_ack', connected);
  await client.dispose();
  const event = await within(10_000, 'graphql-ws close event', closed);
  if (event.code !== 1000 || event.wasClean !== true) {
    throw new Error(`graphql-ws saw close ${event.code} (wasClean ${event.wasClean}), expected a clean 1000`);
  }
  step(`graphql-ws: dispose() -> close ${event.code}, clean`);
}

async function legacyClient() {
  const client = new SubscriptionClient(WS_URL, { reconnect: false, lazy: false }, WebSocket);
  const socket = client.client;
  const closed = new Promise((resolve) => socket.on('close', (code) => resolve(code)));
  await within(
    10_000,
    'subscriptions-transport-ws connection_ack',
    new Promise((resolve, reject) => {
      client.onConnected(resolve);
      client.onError(reject);
    }),
  );
  const subscription = client.request({ query: RUNS }).subscribe({ next() {}, error() {} });
  subscription.unsubscribe();
  client.close();
  const code = await within(10_000, 'subscriptions-transport-ws close event', closed);
  // The client closes without a code after `connection_terminate`: 1000 (our answer to the
  // terminate) or 1005 (no status, our echo of its frame) are both clean; 1006 is not.
  if (code !== 1000 && code !== 1005) {
    throw new Error(`subscriptions-transport-ws saw close ${code}, expected a clean close (1000 or 1005)`);
  }
  step(`subscriptions-transport-ws: close() -> close ${code}, clean`);
}

run(async () => {
  await modernClient();
  await legacyClient();
});
