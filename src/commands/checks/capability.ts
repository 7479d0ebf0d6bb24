/** The daemon (or, with none, doctor itself) holds CAP_NET_ADMIN, which every link write needs. */
import { readFileSync } from 'node:fs';
import { describeFailure } from '../../cli/failure.js';
import { fail, ok, type DoctorCheck } from '../doctor-report.js';

/** linux/capability.h: CAP_NET_ADMIN is capability 12. */
const CAP_NET_ADMIN = 12n;

export const capabilityCheck: DoctorCheck = {
  name: 'capability',
  run({ daemon }) {
    const pid = daemon?.pid ?? null;
    const who = pid === null ? 'this process' : `the daemon (pid ${pid})`;
    let eff: bigint;
    try {
      const hex = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync(`/proc/${pid ?? 'self'}/status`, 'utf8'))?.[1];
      if (hex === undefined) throw new Error('no CapEff line');
      eff = BigInt(`0x${hex}`);
    } catch (err) {
      return fail('capability', `cannot read the capabilities of ${who}: ${describeFailure(err).message}`, 'run doctor as root');
    }
    if ((eff >> CAP_NET_ADMIN) & 1n) return ok('capability', `${who} has CAP_NET_ADMIN`);
    return fail('capability', `${who} lacks CAP_NET_ADMIN: every link write fails with EPERM`,
      pid === null ? 'run the daemon (and doctor) as root' : 'run the daemon as root, with CAP_NET_ADMIN in CapabilityBoundingSet= (see the example unit)');
  },
};
