/**
 * A private Dovecot IMAP server on loopback for the mailbox tests: its own config, mail and state in a temp dir,
 * spawned in the foreground (-F) as our child on two random free ports (plain + implicit TLS, self-signed
 * certificate). The system's /etc/dovecot and service are never touched.
 *
 * Root: the master runs as root, the mail user gets uid/gid 65534 (Dovecot refuses root as mail user).
 * Not root: everything runs as the caller, with `chroot =` for the login/helper services.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ImapFlow } from 'imapflow';

export interface Dovecot {
  host: string;
  /** plain IMAP (no STARTTLS is forced; the server offers it) */
  port: number;
  /** implicit TLS (self-signed certificate) */
  tlsPort: number;
  user: string;
  pass: string;
  dir: string;
  log(): string;
  /** stops the server (the mail stays), for the disconnect test */
  stopServer(): Promise<void>;
  /** starts it again on the same ports with the same mail */
  restart(): Promise<void>;
  /** stops the server and removes its directory */
  stop(): Promise<void>;
}

const BINARY_CANDIDATES = ['/usr/sbin/dovecot', '/usr/local/sbin/dovecot'];

export function dovecotBinary(): string | null {
  for (const path of BINARY_CANDIDATES) if (existsSync(path)) return path;
  const found = spawnSync('sh', ['-c', 'command -v dovecot'], { encoding: 'utf8' });
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null;
}

/**
 * Whether the Dovecot suites can run. Absent binary: a loud message and `false` (the suite skips), except with
 * CI=true, where it throws so the run fails instead of silently skipping.
 */
export function dovecotAvailable(suite: string): boolean {
  if (dovecotBinary()) return true;
  const message =
    `\n${'!'.repeat(78)}\n!! ${suite}: SKIPPED — the dovecot binary is not installed.\n` +
    `!! These tests need a real IMAP server: apt-get install -y dovecot-imapd\n${'!'.repeat(78)}\n`;
  if (process.env.CI === 'true') throw new Error(`${suite}: dovecot is not installed and CI=true, so this is a failure, not a skip`);
  console.warn(message);
  return false;
}

export interface DovecotOptions {
  /**
   * fsync mail files as a production server does (default false: tests run on throwaway mail, and each APPEND
   * or MOVE would otherwise wait for the disk)
   */
  fsync?: boolean;
  /** behave like an old IMAP4rev1 server: no IDLE, no MOVE, no UIDPLUS (clients must poll and COPY + EXPUNGE) */
  legacy?: boolean;
}

const LEGACY_CAPABILITIES = 'IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE LITERAL+ NAMESPACE CHILDREN UNSELECT';

export async function startDovecot(options: DovecotOptions = {}): Promise<Dovecot> {
  const binary = dovecotBinary();
  if (!binary) throw new Error('dovecot is not installed');
  const dir = mkdtempSync(join(tmpdir(), 'dovecot-test-'));
  chmodSync(dir, 0o755);
  const [port, tlsPort] = [await freePort(), await freePort()];
  const user = 'dmarc';
  const pass = 'secret-' + Math.random().toString(36).slice(2);
  writeConfig(dir, port, tlsPort, user, pass, options);
  const config = join(dir, 'dovecot.conf');

  let child: ChildProcess | null = null;
  let exited: Promise<void> = Promise.resolve();
  const start = async () => {
    const proc = spawn(binary, ['-F', '-c', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    proc.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    child = proc;
    try {
      await waitForPort(port, proc, () => stderr);
      await waitForPort(tlsPort, proc, () => stderr);
    } catch (err) {
      proc.kill('SIGKILL');
      throw new Error(`${(err as Error).message}\n${readLog(dir)}`);
    }
  };
  const stopServer = async () => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.pid === undefined) return;
    // the master leaves running imap sessions alive when it exits: end them too, like a server going down
    // and at once: a session left serving while the master shuts down would let a client go on for seconds
    const sessions = descendants(proc.pid);
    proc.kill('SIGTERM');
    for (const pid of sessions) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  };
  await start();
  return {
    host: '127.0.0.1',
    port,
    tlsPort,
    user,
    pass,
    dir,
    log: () => readLog(dir),
    stopServer,
    restart: async () => {
      await stopServer();
      await start();
    },
    stop: async () => {
      await stopServer();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function writeConfig(dir: string, port: number, tlsPort: number, user: string, pass: string, options: DovecotOptions): void {
  const root = process.getuid?.() === 0;
  const uid = root ? 65534 : (process.getuid?.() ?? 65534);
  const gid = root ? 65534 : (process.getgid?.() ?? 65534);
  const me = root ? null : spawnSync('id', ['-un'], { encoding: 'utf8' }).stdout.trim();
  const myGroup = root ? null : spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();
  const mailDir = join(dir, 'mail');
  mkdirSync(join(mailDir, user), { recursive: true });
  if (root) {
    chownSync(mailDir, uid, gid);
    chownSync(join(mailDir, user), uid, gid);
  }
  const cert = spawnSync(
    'openssl',
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=localhost',
      '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')],
    { stdio: 'ignore' },
  );
  if (cert.status !== 0) throw new Error('openssl could not make the test certificate');
  chmodSync(join(dir, 'key.pem'), 0o644);
  writeFileSync(join(dir, 'users'), `${user}:{PLAIN}${pass}:${uid}:${gid}::${join(mailDir, user)}::\n`, { mode: 0o644 });
  const chroot = root ? '' : 'chroot =';
  const service = (name: string, body = '') => `service ${name} {\n  ${chroot}\n${body}}\n`;
  const conf = `protocols = imap
listen = 127.0.0.1
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = dovecot-test-${port}
log_path = ${dir}/dovecot.log
first_valid_uid = ${uid}
first_valid_gid = ${gid}
default_internal_user = ${root ? 'dovecot' : me}
default_internal_group = ${root ? 'dovecot' : myGroup}
default_login_user = ${root ? 'dovenull' : me}
mail_location = maildir:~/Maildir
mail_fsync = ${options.fsync ? 'optimized' : 'never'}
${options.legacy ? `imap_capability = ${LEGACY_CAPABILITIES}\n` : ''}namespace inbox {
  inbox = yes
  separator = /
}
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
passdb {
  driver = passwd-file
  args = scheme=PLAIN ${dir}/users
}
userdb {
  driver = passwd-file
  args = ${dir}/users
}
ssl = yes
ssl_cert = <${dir}/cert.pem
ssl_key = <${dir}/key.pem
${service('imap-login', `  inet_listener imap {\n    address = 127.0.0.1\n    port = ${port}\n  }\n  inet_listener imaps {\n    address = 127.0.0.1\n    port = ${tlsPort}\n    ssl = yes\n  }\n`)}
${service('anvil')}
${service('ipc')}
${service('old-stats')}
${service('imap-urlauth-login')}
`;
  writeFileSync(join(dir, 'dovecot.conf'), conf, { mode: 0o644 });
}

/** Process ids below `pid` (children, grandchildren…), from /proc. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended meanwhile
    }
  }
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    for (const child of parents.get(queue.shift() as number) ?? []) {
      out.push(child);
      queue.push(child);
    }
  }
  return out;
}

function readLog(dir: string): string {
  try {
    return readFileSync(join(dir, 'dovecot.log'), 'utf8');
  } catch {
    return '(no dovecot log)';
  }
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, proc: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`dovecot exited with ${proc.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`dovecot did not listen on ${port} within 15 s: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A plain-port client for the test's own APPENDs and checks (STARTTLS off: the certificate is self-signed). */
export async function testClient(d: Dovecot): Promise<ImapFlow> {
  const client = new ImapFlow({ host: d.host, port: d.port, secure: false, doSTARTTLS: false, auth: { user: d.user, pass: d.pass }, logger: false });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/** APPENDs the mails to `mailbox` (created when missing), in order, over one connection. */
export async function appendMails(d: Dovecot, mailbox: string, mails: Buffer[], flags: string[] = []): Promise<void> {
  const client = await testClient(d);
  try {
    await client.mailboxCreate(mailbox);
    for (const mail of mails) {
      const appended = await client.append(mailbox, mail, flags);
      if (!appended) throw new Error(`APPEND to ${mailbox} failed`);
    }
  } finally {
    await client.logout();
  }
}

/** Message counts of the given folders (0 for a missing folder). */
export async function folderCounts(d: Dovecot, folders: string[]): Promise<Record<string, number>> {
  const client = await testClient(d);
  try {
    const counts: Record<string, number> = {};
    for (const folder of folders) {
      const status = await client.status(folder, { messages: true }).catch(() => false as const);
      counts[folder] = status ? (status.messages ?? 0) : 0;
    }
    return counts;
  } finally {
    await client.logout();
  }
}

/** Flags of every message in a folder, by UID. */
export async function folderFlags(d: Dovecot, folder: string): Promise<Map<number, Set<string>>> {
  const client = await testClient(d);
  try {
    const lock = await client.getMailboxLock(folder);
    try {
      const out = new Map<number, Set<string>>();
      if (client.mailbox && client.mailbox.exists > 0) {
        for await (const m of client.fetch('1:*', { uid: true, flags: true })) {
          // a flag change made meanwhile by another session (the poller) can arrive as an unsolicited FETCH
          // without a UID, which the iterator hands out like an answer: not a message of its own
          if (typeof m.uid === 'number') out.set(m.uid, m.flags ?? new Set());
        }
      }
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await client.logout();
  }
}
