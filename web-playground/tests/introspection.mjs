// graphql-js's own standard introspection query, as GraphiQL, graphql-codegen, Apollo
// tooling, Postman and Insomnia send it, in each of its variants: the server must answer
// it, and `buildClientSchema` must rebuild a schema from the answer that knows our types.
// A nested `ofType` abuse must still be refused.
//
//   PFO_URL=http://127.0.0.1:PORT node tests/introspection.mjs

import { buildClientSchema, getIntrospectionQuery, printSchema } from 'graphql';
import { BASE_URL, run, step } from './lib.mjs';

const VARIANTS = [
  {},
  { descriptions: false },
  {
    descriptions: true,
    specifiedByUrl: true,
    directiveIsRepeatable: true,
    schemaDescription: true,
    inputValueDeprecation: true,
  },
];

async function post(query, accept) {
  const response = await fetch(`${BASE_URL}/graphql`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: accept },
    body: JSON.stringify({ query, operationName: 'IntrospectionQuery' }),
  });
  return { status: response.status, body: await response.json() };
}

run(async () => {
  for (const options of VARIANTS) {
    for (const accept of ['application/json', 'application/graphql-response+json']) {
      const { status, body } = await post(getIntrospectionQuery(options), accept);
      if (status !== 200 || body.errors) {
        throw new Error(`${JSON.stringify(options)} (${accept}): HTTP ${status} ${JSON.stringify(body.errors)}`);
      }
      const schema = buildClientSchema(body.data);
      for (const type of ['Feedstock', 'RecipeRun', 'Bakery', 'Dataset']) {
        if (!schema.getType(type)) throw new Error(`the rebuilt schema lacks ${type}`);
      }
      if (!schema.getSubscriptionType()?.getFields().recipeRunUpdated) {
        throw new Error('the rebuilt schema lacks Subscription.recipeRunUpdated');
      }
      step(`${JSON.stringify(options)} ${accept}: ${printSchema(schema).length} characters of SDL`);
    }
  }
  let chain = 'name';
  for (let i = 0; i < 20; i++) chain = `name ofType { ${chain} }`;
  const abuse = `query IntrospectionQuery { __type(name: "Feedstock") { fields { type { ${chain} } } } }`;
  const { body } = await post(abuse, 'application/json');
  const message = body.errors?.[0]?.message ?? '';
  if (!message.includes('nested too deep')) {
    throw new Error(`a 23-deep ofType chain was not refused: ${JSON.stringify(body)}`);
  }
  step(`nested ofType abuse refused: ${message}`);
});
