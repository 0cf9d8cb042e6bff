/** The `dmarc-lens` command: wires the sub-commands together; each lives in server/commands/. */
import { Command, CommanderError } from 'commander';
import { FatalError } from './errors.ts';

type Register = (program: Command) => void;

/**
 * Sub-commands, loaded lazily: a run of one command imports only its own modules (IMAP, DNS, the web server…),
 * which keeps start-up fast.
 */
const COMMANDS: Record<string, () => Promise<Register>> = {
  ingest: async () => (await import('./commands/ingest.ts')).registerIngestCommand,
  export: async () => (await import('./commands/export.ts')).registerExportCommand,
  reprocess: async () => (await import('./commands/reprocess.ts')).registerReprocessCommand,
  poll: async () => (await import('./commands/poll.ts')).registerPollCommand,
  check: async () => {
    const [{ registerCheckCommand }, { checkCommandDeps }] = await Promise.all([import('./commands/check.ts'), import('./analytics/check-wiring.ts')]);
    return (program) => registerCheckCommand(program, checkCommandDeps);
  },
  enrich: async () => (await import('./commands/enrich.ts')).registerEnrichCommand,
  readiness: async () => (await import('./commands/readiness.ts')).registerReadinessCommand,
  serve: async () => (await import('./commands/serve.ts')).registerServeCommand,
  demo: async () => (await import('./commands/demo.ts')).registerDemoCommand,
  user: async () => (await import('./commands/user.ts')).registerUserCommand,
};

export async function buildProgram(argv: string[] = []): Promise<Command> {
  const program = new Command('dmarc-lens')
    .description('Self-hosted analyzer for DMARC aggregate, failure and SMTP TLS reports')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  const name = argv[2];
  const only = name !== undefined && Object.hasOwn(COMMANDS, name) ? [name] : Object.keys(COMMANDS);
  for (const command of only) (await COMMANDS[command]!())(program);
  return program;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    if (err instanceof FatalError) {
      process.stderr.write(`dmarc-lens: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`dmarc-lens: unexpected error: ${(err as Error).stack ?? String(err)}\n`);
    return 70;
  }
}
