/**
 * The web app on a database URL, in its own process, for bench/web.ts: a view that runs out of memory or time
 * then fails its own measurement instead of the whole benchmark. Prints `port N` once listening.
 *   node --import tsx bench/web-server-child.ts DB_URL
 */
import type { AddressInfo } from 'node:net';
import { createApp } from '../server/http/create-app.ts';
import { warmAnalytics, webAnalytics } from '../server/http/load-analytics.ts';
import { DEFAULT_LIMITS } from '../server/ingest/limits.ts';
import { openDatabase } from '../server/store/database.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: web-server-child.ts DB_URL');
const db = await openDatabase(url);
const analytics = webAnalytics(db);
const app = createApp({ db, analytics, checker: null, limits: DEFAULT_LIMITS, auth: { required: false }, log: () => {} });
const server = app.listen(0, '127.0.0.1', () => {
  process.stdout.write(`port ${(server.address() as AddressInfo).port}\n`);
  // as `dmarc-lens serve` does: the index loads in the background while the server answers
  void warmAnalytics(analytics, (line) => process.stderr.write(`${line}\n`));
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => void db.close().then(() => process.exit(0)));
});
