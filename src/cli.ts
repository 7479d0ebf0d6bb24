#!/usr/bin/env -S node --max-semi-space-size=1 --lite-mode --no-expose-wasm
// The shebang's V8 options: see src/launcher.ts, the installed entry point.
/**
 * dot1x-operstate: the command line. yargs parses; everything it accepts is validated again in
 * src/cli/options.ts before any link is touched. Every failure ends as one line on stderr and an
 * exit status from src/cli/exit-codes.ts, never a stack trace.
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { UsageError } from './cli/errors.js';
import { EXIT, type ExitStatus } from './cli/exit-codes.js';
import { describeFailure, oneLine } from './cli/failure.js';
import { validateRunOptions, warnDays, DEFAULTS, type RawRunOptions } from './cli/options.js';
import { validateIfname } from './cli/ifname.js';
import { LOG_FORMATS, LOG_LEVELS } from './text/log.js';
import { errPrefix } from './text/journal.js';
import { programVersion } from './cli/version.js';
import { stamp } from './text/trace.js';
import { nearCommand } from './cli/suggest.js';

const PROG = 'dot1x-operstate';

type Action =
  | { command: 'run'; raw: RawRunOptions }
  | { command: 'reset'; ifname: string }
  | { command: 'close'; ifname: string }
  | { command: 'status'; ifname: string; json: boolean; runDir: string | undefined }
  | { command: 'doctor'; ifnames: string[]; json: boolean; runDir: string | undefined; auth: string | undefined; wpaCtrl: string | undefined; enforce: boolean; certWarnDays: unknown };

/**
 * yargs names an unknown option twice, as given and camel-cased ("run-dir, runDir"): keep the
 * form the person typed, with its dashes.
 */
function optionNames(list: string, argv: string[]): string {
  const names = list.split(/,\s*/);
  const kebab = new Set(names.filter((n) => n.includes('-')).map((n) => n.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())));
  const given = (flag: string): boolean => argv.some((a) => a === flag || a.startsWith(`${flag}=`));
  return names
    .filter((n) => !kebab.has(n) || n.includes('-'))
    .map((n) => (given(`--${n}`) ? `--${n}` : given(`-${n}`) ? `-${n}` : n))
    .join(', ');
}

async function parse(argv: string[]): Promise<Action | null> {
  let action: Action | null = null;
  const runDirOption = {
    type: 'string',
    describe: 'directory of the status sockets (default $DOT1X_RUN_DIR or /run/dot1x-operstate)',
  } as const;
  await yargs(argv)
    .scriptName(PROG)
    .strict()
    .parserConfiguration({ 'camel-case-expansion': true })
    .command(
      ['run <ifname..>', '$0 <ifname..>'],
      'manage each named interface until stopped (default command)',
      (y) => y
        .positional('ifname', { type: 'string', array: true, describe: 'interface(s) to manage' })
        .option('auth', { type: 'string', describe: 'backend: wpa-supplicant | exec | module', default: DEFAULTS.auth })
        .option('wpa-ctrl', { type: 'string', describe: `wpa_supplicant control directory or socket (default ${DEFAULTS.wpaCtrl})` })
        .option('exec', { type: 'string', describe: 'program that authenticates (--auth exec)' })
        .option('exec-arg', { type: 'string', describe: 'argument for the --exec program (repeatable; --exec-arg=-x for one that starts with -); every local user can read it in ps: never a secret' })
        .option('module', { type: 'string', describe: 'authenticator module (--auth module)' })
        .option('auth-timeout', { type: 'string', describe: `seconds allowed for one authentication (default ${DEFAULTS.authTimeout})` })
        .option('retry-min', { type: 'string', describe: `first backoff after a failure, seconds, fractions allowed (default ${DEFAULTS.retryMin})` })
        .option('retry-max', { type: 'string', describe: `longest backoff, seconds (default ${DEFAULTS.retryMax})` })
        .option('start-period', { type: 'string', describe: `seconds to wait for an answer to EAPOL-Start before sending it again, 3 times (default ${DEFAULTS.startPeriod})` })
        .option('optional', { type: 'boolean', describe: 'open the port while no authenticator answers (802.1X only where the port asks for it)' })
        .option('log-level', { type: 'string', describe: `${LOG_LEVELS.join(' | ')} (default ${DEFAULTS.logLevel})` })
        .option('log-format', { type: 'string', describe: `${LOG_FORMATS.join(' | ')} (default ${DEFAULTS.logFormat}: journal, lines with their syslog priority, when stdout is systemd's journal stream (JOURNAL_STREAM); json otherwise)` })
        .option('run-dir', runDirOption)
        .option('metrics-file', { type: 'string', describe: 'write Prometheus metrics to this node_exporter textfile (*.prom), rewritten on each change' })
        .option('enforce', { type: 'boolean', describe: 'while a port is not open, an nftables netdev filter passes only EAPOL in and out of it (needs nft, Linux 5.16+); by default on where NetworkManager is enabled or runs, --no-enforce turns it off' })
        .option('hook-dir', { type: 'string', describe: `executables run on every open and close of a port (default ${DEFAULTS.hookDir}; absent is fine)` })
        .option('hook-timeout', { type: 'string', describe: `seconds a hook may run before it is killed with its process group (default ${DEFAULTS.hookTimeout})` })
        .option('cert', { type: 'string', describe: '--auth exec or module: a certificate file the authenticator uses, watched for expiry: client=PATH (the port\'s own) or ca=PATH (repeatable; wpa-supplicant: read from its network block)' })
        .option('cert-warn-days', { type: 'string', describe: `warn this many days before a certificate expires (default ${DEFAULTS.certWarnDays}; 0: only once expired)` }),
      (args) => { action = { command: 'run', raw: args as RawRunOptions }; },
    )
    .command(
      'reset <ifname>',
      'put the interface back to linkmode 0 and operstate UP, then exit',
      (y) => y.positional('ifname', { type: 'string', demandOption: true }),
      (args) => { action = { command: 'reset', ifname: String(args.ifname) }; },
    )
    .command(
      'close <ifname>',
      'put the interface in supplicant mode, closed (linkmode 1, operstate DORMANT), and leave it so until the daemon authenticates it (the unit runs it after a crash)',
      (y) => y.positional('ifname', { type: 'string', demandOption: true }),
      (args) => { action = { command: 'close', ifname: String(args.ifname) }; },
    )
    .command(
      'status <ifname>',
      "show the kernel's view of the interface and the daemon's, if one runs",
      (y) => y
        .positional('ifname', { type: 'string', demandOption: true })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .option('run-dir', runDirOption),
      (args) => {
        const runDir: unknown = args.runDir;
        action = { command: 'status', ifname: String(args.ifname), json: Boolean(args.json), runDir: Array.isArray(runDir) ? String(runDir.at(-1)) : runDir as string | undefined };
      },
    )
    .command(
      'doctor [ifname..]',
      'check what keeps a port closed: interface, daemon, wpa_supplicant and its network block, certificates, NetworkManager, DHCP clients, privileges; each check OK, WARN or FAIL with what to do (exit 1 on a FAIL, 3 on a WARN only)',
      (y) => y
        .positional('ifname', { type: 'string', array: true, describe: 'interface(s) to check (default: those with a daemon)' })
        .option('json', { type: 'boolean', default: false, describe: 'print JSON' })
        .option('run-dir', runDirOption)
        .option('auth', { type: 'string', describe: 'backend to check when no daemon runs (default wpa-supplicant)' })
        .option('wpa-ctrl', { type: 'string', describe: `wpa_supplicant control directory or socket when no daemon runs (default ${DEFAULTS.wpaCtrl})` })
        .option('enforce', { type: 'boolean', default: false, describe: 'the daemon uses --enforce (nftables): check for it' })
        .option('cert-warn-days', { type: 'string', describe: `warn about a certificate expiring within this many days when no daemon runs (default ${DEFAULTS.certWarnDays})` }),
      (args) => {
        const last = (v: unknown): string | undefined => (Array.isArray(v) ? String(v.at(-1)) : v as string | undefined);
        const ifnames = (Array.isArray(args.ifname) ? args.ifname : args.ifname === undefined ? [] : [args.ifname]).map(String);
        action = { command: 'doctor', ifnames, json: Boolean(args.json), runDir: last(args.runDir), auth: last(args.auth), wpaCtrl: last(args.wpaCtrl), enforce: Boolean(args.enforce), certWarnDays: args.certWarnDays };
      },
    )
    .example('$0 eth0', 'gate eth0 on wpa_supplicant in /run/wpa_supplicant')
    .example('$0 eth0 --auth exec --exec /usr/local/bin/auth-eth0', 'gate eth0 on a program\'s exit status')
    .example('$0 status eth0 --json', 'what the kernel and the daemon say')
    .example('$0 doctor eth0', 'why is eth0 closed?')
    .epilogue('Exit status: 0 clean stop, 1 runtime failure (e.g. missing CAP_NET_ADMIN) or a FAIL doctor found, 2 bad input, 3 doctor found a WARN and no FAIL.')
    .help()
    .alias('help', 'h')
    // Given, not guessed: yargs looks for a package.json from the working directory.
    .version(programVersion())
    .alias('version', 'V')
    .wrap(null)
    .fail((msg, err) => {
      if (err instanceof UsageError) throw err;
      // -v is verbose to some programs and the version to others: say which is which here.
      if (argv.includes('-v')) {
        throw new UsageError('EUSAGE', `unknown option -v: -V or --version prints the version, --log-level debug makes the daemon say more (see ${PROG} --help)`);
      }
      if (msg?.startsWith('Not enough non-option arguments')) {
        throw new UsageError('EUSAGE', `name the interface(s) to manage, e.g. ${PROG} eth0 (see ${PROG} --help)`);
      }
      const unknown = /^Unknown arguments?: (.*)$/.exec(oneLine(msg ?? ''));
      if (unknown) {
        throw new UsageError('EUSAGE', `unknown option or argument: ${optionNames(unknown[1]!, argv)} (see ${PROG} --help)`);
      }
      throw new UsageError('EUSAGE', `${oneLine(msg ?? err?.message ?? 'invalid command line')} (see ${PROG} --help)`);
    })
    .parseAsync();
  return action;
}

async function run(action: Action): Promise<ExitStatus> {
  switch (action.command) {
    case 'run': {
      const config = validateRunOptions(action.raw);
      const { runDaemon } = await import('./daemon/run.js');
      return runDaemon(config);
    }
    case 'reset': {
      validateIfname(action.ifname);
      const { resetLink } = await import('./commands/reset.js');
      return resetLink(action.ifname);
    }
    case 'close': {
      validateIfname(action.ifname);
      const { closeLink } = await import('./commands/close.js');
      return closeLink(action.ifname);
    }
    case 'status': {
      validateIfname(action.ifname);
      const { showStatus } = await import('./commands/status.js');
      return showStatus(action.ifname, { json: action.json, runDir: action.runDir });
    }
    case 'doctor': {
      for (const name of action.ifnames) validateIfname(name);
      const { runDoctor } = await import('./commands/doctor.js');
      const certWarnDays = action.certWarnDays === undefined ? undefined : warnDays(action.certWarnDays);
      return runDoctor(action.ifnames, { json: action.json, runDir: action.runDir, auth: action.auth, wpaCtrl: action.wpaCtrl, enforce: action.enforce, certWarnDays });
    }
  }
}

/** Whether an interface named IFNAME exists here; true when that cannot be told. */
async function interfaceExists(ifname: string): Promise<boolean> {
  try {
    const { RouteSocket } = await import('./netlink/route-socket.js');
    const socket = RouteSocket.open();
    try {
      await socket.getLink(ifname);
      return true;
    } finally {
      socket.close();
    }
  } catch (err) {
    return (err as { code?: string }).code !== 'ENODEV';
  }
}

/**
 * Bad input whose first word looks like a mistyped command ("statsu eth0", taken by the default
 * command for interfaces) and names no interface either: say which command it may have meant.
 */
async function withSuggestion(err: unknown, argv: string[]): Promise<unknown> {
  const word = argv[0];
  const meant = word === undefined ? null : nearCommand(word);
  if (!(err instanceof UsageError) || meant === null || await interfaceExists(word!)) return err;
  return new UsageError('EUSAGE', `"${word}" is neither a command nor an interface here: did you mean "${PROG} ${meant}"? (see ${PROG} --help)`);
}

async function main(): Promise<void> {
  stamp('start.main');
  let status: ExitStatus;
  const argv = hideBin(process.argv);
  try {
    const action = await parse(argv);
    stamp('start.parsed');
    // null: --help or --version answered (yargs exits by itself in that case).
    status = action === null ? EXIT.OK : await run(action);
  } catch (err) {
    const failure = describeFailure(await withSuggestion(err, argv));
    process.stderr.write(`${errPrefix(2)}${PROG}: ${failure.message}\n`);
    status = failure.status;
  }
  process.exitCode = status;
  // The daemon leaves nothing running on a clean return; exit now rather than wait for
  // stray handles of a backend.
  process.exit(status);
}

void main();
