/** `dmarc-lens poll`: takes report mail from IMAP mailboxes into the store (see server/mailbox/). */
import type { Command } from 'commander';
import { loadConfig, redactUrl } from '../config.ts';
import { loadPollSettings } from '../mailbox/account-config.ts';
import { poll, type PollSummary } from '../mailbox/poller.ts';
import type { MessageResult } from '../mailbox/process-message.ts';
import { addStoreOptions, boundHeapGrowth } from './common.ts';

/** exit status when a store failure left messages in place (EX_TEMPFAIL: run again later) */
const EXIT_TEMPFAIL = 75;

interface PollFlags {
  db?: string;
  config?: string;
  once?: boolean;
  json?: boolean;
}

export function registerPollCommand(program: Command): void {
  addStoreOptions(
    program
      .command('poll')
      .description(
        'take report mail from IMAP mailboxes (env DMARC_LENS_IMAP_* or the config file\'s "imap" list) into the database; ' +
          'each mail is moved to the archive folder only after its reports are stored',
      ),
  )
    .option('--once', 'process what is in the mailboxes now, then exit (default: keep running, IDLE or polling)')
    .option('--json', 'print one JSON line per message: account, uid, outcome, reports, events')
    .action(async (flags: PollFlags) => {
      boundHeapGrowth();
      const config = loadConfig(flags);
      const settings = loadPollSettings(config.file);
      const log = (line: string) => process.stderr.write(`dmarc-lens poll: ${line}\n`);
      log(`${settings.accounts.length} account(s), database ${redactUrl(config.db)}${flags.once ? ', once' : ''}`);

      const controller = new AbortController();
      const onSignal = (name: NodeJS.Signals) => {
        if (controller.signal.aborted) {
          log(`${name} again: exiting now`);
          process.exit(130);
        }
        log(`${name}: finishing the current message, then exiting`);
        controller.abort();
      };
      process.on('SIGTERM', onSignal);
      process.on('SIGINT', onSignal);
      try {
        const summary = await poll({
          settings,
          db: config.db,
          limits: config.limits,
          redactFailures: config.redactFailures,
          once: flags.once === true,
          signal: controller.signal,
          onResult: (r) => process.stdout.write(flags.json ? JSON.stringify(r) + '\n' : formatResult(r)),
          log,
        });
        log(formatSummary(summary));
        if (summary.failed.length > 0) process.exitCode = 2;
        else if (summary.storeFailed.length > 0) process.exitCode = EXIT_TEMPFAIL;
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      }
    });
}

function formatResult(r: MessageResult): string {
  const detail = r.error !== undefined ? ` (attempt ${r.attempts}: ${r.error})` : ` (${r.reports} report(s), ${r.events.length - r.reports} quarantined)`;
  return `${r.account} uid ${r.uid}: ${r.outcome}${detail}\n`;
}

function formatSummary(s: PollSummary): string {
  const o = s.outcomes;
  let text = `${s.messages} message(s): ${o.archived} archived, ${o.invalid} invalid, ${o.left} left, ${o.unsaved} unsaved`;
  if (s.storeFailed.length > 0) text += `; the store failed for ${s.storeFailed.join(', ')} (messages left in place, run again later)`;
  if (s.failed.length > 0) text += `; failed: ${s.failed.map((f) => f.account).join(', ')}`;
  return text;
}
