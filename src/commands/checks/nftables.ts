/**
 * With --enforce: the system's nft is there and can make netdev tables. The nft asked is the one
 * the daemon runs (findNft(): never one from $PATH, only root able to change it), so that a
 * doctor run as root never runs a program a caller's $PATH put first.
 */
import { findNft, noNftReason } from '../../enforce/nft.js';
import { fail, ok, skipped, type CheckResult, type DoctorCheck } from '../doctor-report.js';
import { runCommand } from './processes.js';

async function nftAnswers(enforce: boolean): Promise<CheckResult> {
  if (!enforce) return skipped('nftables', '--enforce not used');
  const nft = findNft();
  if (nft === null) {
    return fail('nftables', `--enforce needs the system's nft, only root able to change it: ${noNftReason()}`,
      'apt-get install nftables (the daemon runs /usr/sbin/nft or /sbin/nft, never one from $PATH)');
  }
  const r = await runCommand(nft, ['list', 'tables']);
  if (r.code !== 0) return fail('nftables', `${nft} cannot talk to the kernel (${r.stderr.trim() || String(r.code)})`, 'run as root; the kernel needs nf_tables with netdev tables');
  return ok('nftables', `${nft} answers: netdev tables for --enforce can be made`);
}

export const nftablesCheck: DoctorCheck = { name: 'nftables', run: ({ enforce }) => nftAnswers(enforce) };
