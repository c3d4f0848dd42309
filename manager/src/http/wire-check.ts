/**
 * Compile-time checks that a type built elsewhere matches a wire type. A route's answer is
 * serialized by its response schema, which drops any property the schema lacks: where an answer is
 * built from a type the route does not own, these make a new field fail to compile instead.
 *
 * @example
 * export type ReportAgrees = Agree<KeysWithin<InternalReport, ReconcileReport>>;
 */

/** Fails to compile unless `T` is `true`. */
export type Agree<T extends true> = T;

/** `true` when each is assignable to the other. */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;

/** `true` when every property of `A` is one of `B`'s. */
export type KeysWithin<A, B> = [Exclude<keyof A, keyof B>] extends [never] ? true : false;
