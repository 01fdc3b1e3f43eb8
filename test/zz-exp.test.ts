import { it } from 'vitest';
import { connectThroughBridge } from './helpers/bridge.js';
import { startStreamableHttpServer } from './fixtures/servers.mjs';
it('pings', async () => {
  const s = await startStreamableHttpServer();
  const b = await connectThroughBridge(s.url, ['--transport', 'http', '--verbose', '--ping-interval', '0']);
  const n = s.record.http.length;
  await new Promise((r) => setTimeout(r, 1500));
  console.log(JSON.stringify(s.record.http.slice(n - 1)));
  console.log(b.stderr());
  await b.close(); await s.close();
});
