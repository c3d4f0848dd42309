/** `GET /api/v1/doctor`'s answer: one line per check of the manager and of each host (its wire types). */
export type { DoctorCheck, DoctorReport } from '../../protocol/index.js';
