/** The `dmarc-lens` command: wires the sub-commands together; each lives in server/commands/. */
import { Command, CommanderError } from 'commander';
import { registerCheckCommand } from './commands/check.ts';
import { registerExportCommand } from './commands/export.ts';
import { registerIngestCommand } from './commands/ingest.ts';
import { registerPollCommand } from './commands/poll.ts';
import { registerReprocessCommand } from './commands/reprocess.ts';
import { FatalError } from './errors.ts';

export function buildProgram(): Command {
  const program = new Command('dmarc-lens')
    .description('Self-hosted analyzer for DMARC aggregate, failure and SMTP TLS reports')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerIngestCommand(program);
  registerExportCommand(program);
  registerReprocessCommand(program);
  registerPollCommand(program);
  registerCheckCommand(program);
  return program;
}

/** Runs the command line and returns the process exit code. */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
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
