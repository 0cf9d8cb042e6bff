// Runs `dmarc-lens ARGS…` in this process, exactly as the command runs (bin/dmarc-lens.js: the bundle of
// `npm run build` when it is fresh), and then prints on stderr one JSON line {seconds, peakRssMb}: seconds since
// the process started (so start-up counts), peak resident memory of the whole process.
import { fileURLToPath } from 'node:url';

const bin = new URL('../bin/dmarc-lens.js', import.meta.url);
process.argv = [process.argv[0], fileURLToPath(bin), ...process.argv.slice(2)];
process.on('exit', () => {
  const stats = { seconds: performance.now() / 1000, peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) };
  process.stderr.write(`\n${JSON.stringify(stats)}\n`);
});
await import(bin.href);
