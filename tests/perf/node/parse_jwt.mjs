// The official Wix JS SDK verifying and parsing webhooks, timed for tests/perf/bench_verify.py.
//
// Reads from stdin {"publicKey": PEM, "appId": str, "repeat": n, "warmup": n,
// "tokens": {name: {"token": JWT, "lineItems": n}}} and prints one JSON line,
// {name: [seconds of each client.webhooks.parseJWT(token)]}. The client is created once, as an
// app's webhook endpoint would; each call is what the endpoint runs per delivery. Every result is
// checked (event type, line item count), so a failing verification cannot pass for a fast one.
import { AppStrategy, createClient } from "@wix/sdk";

const ORDER_APPROVED = "wix.ecom.v1.order_approved";

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

async function parseChecked(client, token, lineItems) {
  const event = await client.webhooks.parseJWT(token);
  const items = event.payload?.actionEvent?.body?.order?.lineItems;
  if (event.eventType !== ORDER_APPROVED || !Array.isArray(items) || items.length !== lineItems) {
    throw new Error(`unexpected parse result: ${event.eventType}, ${items?.length} line items`);
  }
}

async function main() {
  const input = await readStdin();
  const client = createClient({
    auth: AppStrategy({ appId: input.appId, publicKey: input.publicKey }),
  });
  const result = {};
  for (const [name, { token, lineItems }] of Object.entries(input.tokens)) {
    for (let i = 0; i < input.warmup; i++) await parseChecked(client, token, lineItems);
    const timings = [];
    for (let i = 0; i < input.repeat; i++) {
      const started = process.hrtime.bigint();
      await parseChecked(client, token, lineItems);
      timings.push(Number(process.hrtime.bigint() - started) / 1e9);
    }
    result[name] = timings;
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exit(1);
});
