/** `GET /api/v1/doctor`: the manager's and every host's checks; 200 whatever they find. */
import Type, { type Static } from 'typebox';
import { List, OneOf } from './common.js';

export const DoctorCheck = Type.Object({
  /** `manager`, or `host NAME`. */
  scope: Type.String(),
  name: Type.String(),
  status: OneOf(['ok', 'fail', 'skip']),
  message: Type.String(),
  /** What to do about a failure. */
  fix: Type.Optional(Type.String()),
});
export type DoctorCheck = Static<typeof DoctorCheck>;

export const DoctorReport = Type.Object({
  /** False when any check fails (`storm doctor` exits 1). */
  ok: Type.Boolean(),
  checks: List(DoctorCheck),
});
export type DoctorReport = Static<typeof DoctorReport>;
