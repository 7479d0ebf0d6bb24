/**
 * The certificates the port authenticates with: expired, not valid yet or unreadable (FAIL),
 * expiring within --cert-warn-days or not checkable (WARN), one line per file
 * (src/certs/doctor-check.ts decides; this hands it what doctor gathered).
 */
import type { DoctorCheck, DoctorContext } from '../doctor-report.js';
import { certificateDoctor } from '../../certs/doctor-check.js';

export const certificatesCheck: DoctorCheck = {
  name: 'certificates',
  run: (ctx: DoctorContext) => certificateDoctor({
    ifname: ctx.ifname, auth: ctx.auth, wpaCtrl: ctx.wpaCtrl, files: ctx.daemon?.certificates, warnDays: ctx.certWarnDays,
  }),
};
