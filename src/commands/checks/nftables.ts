/** With --enforce: nft is there and can make netdev tables. */
import { fail, ok, skipped, type CheckResult, type DoctorCheck } from '../doctor-report.js';
import { runCommand } from './processes.js';

async function nftAnswers(enforce: boolean): Promise<CheckResult> {
  if (!enforce) return skipped('nftables', '--enforce not used');
  const r = await runCommand('nft', ['list', 'tables']);
  if (r.code === 'ENOENT') return fail('nftables', '--enforce needs nft, which is not installed', 'apt-get install nftables');
  if (r.code !== 0) return fail('nftables', `nft cannot talk to the kernel (${r.stderr.trim() || String(r.code)})`, 'run as root; the kernel needs nf_tables with netdev tables');
  return ok('nftables', 'nft answers: netdev tables for --enforce can be made');
}

export const nftablesCheck: DoctorCheck = { name: 'nftables', run: ({ enforce }) => nftAnswers(enforce) };
