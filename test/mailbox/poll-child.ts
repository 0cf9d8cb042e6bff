/**
 * Stand-in for `node bin/dmarc-lens.js poll …` while server/cli.ts does not register the poll command yet:
 * runs the real command (registerPollCommand) on the given arguments. Spawned by the kill test as
 * `node --import tsx test/mailbox/poll-child.ts poll --once --json`.
 */
import { Command } from 'commander';
import { registerPollCommand } from '../../server/commands/poll.ts';
import { FatalError } from '../../server/errors.ts';

const program = new Command('dmarc-lens').exitOverride();
registerPollCommand(program);
try {
  await program.parseAsync(process.argv);
} catch (err) {
  process.stderr.write(`dmarc-lens: ${(err as Error).message}\n`);
  process.exitCode = err instanceof FatalError ? 2 : 70;
}
