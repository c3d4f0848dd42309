/** `GET /api/v1/doctor`'s answer: one line per check of the manager and of each host. */

export interface DoctorCheck {
  /** `manager`, or `host NAME`. */
  readonly scope: string;
  readonly name: string;
  readonly status: 'ok' | 'fail' | 'skip';
  readonly message: string;
  /** What to do about a failure. */
  readonly fix?: string;
}

export interface DoctorReport {
  /** False when any check fails (`storm doctor` exits 1). */
  readonly ok: boolean;
  readonly checks: readonly DoctorCheck[];
}
