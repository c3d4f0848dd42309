/**
 * Building blocks of the manager's wire types: the error answer every refusal has, and the few
 * shapes many routes share. TypeBox only: this folder is imported by the CLI and the console.
 *
 * @example
 * const HostView = Type.Object({ lastHeartbeat: Nullable(IsoTime), checks: List(HealthCheck) });
 */
import Type, { type Static, type TSchema } from 'typebox';

/** `T` or `null`. */
export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** A read-only array of `T`: answers are never changed by whoever reads them. */
export const List = <T extends TSchema>(items: T, options: { maxItems?: number; uniqueItems?: boolean } = {}) =>
  Type.Immutable(Type.Array(items, options));

/** One of a fixed set of strings (`enum`). */
export const OneOf = <const V extends string[]>(values: readonly [...V]) => Type.Enum(values);

/** An ISO 8601 time as the manager writes it (`new Date().toISOString()`, or sqlite's `datetime()`). */
export const IsoTime = Type.String();

/** Lowercase hex sha256: how layers, kernels and initrds are named everywhere. */
export const Sha256 = Type.String({ pattern: '^[0-9a-f]{64}$' });

/**
 * Every refusal: `{ code, message }` from the manager's one error handler, `code` one of its
 * `MGR_ERR_*` codes; `details` only where the error's catalog entry says what they hold.
 */
export const ErrorBody = Type.Object({
  code: Type.String({ pattern: '^[A-Z][A-Z0-9_]*$' }),
  message: Type.String(),
  details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
});
export type ErrorBody = Static<typeof ErrorBody>;

/** A list's page when the caller names no `?limit`, and the most one page may hold. */
export const DEFAULT_PAGE = 100;
export const MAX_PAGE = 1000;

/**
 * A page of a list: `?limit=N` (1 to MAX_PAGE; DEFAULT_PAGE when absent) answers at most N items
 * and, when more follow, `next`: the `?cursor=` of the following page (opaque). No answer holds a
 * whole site: a caller that wants every item follows `next`.
 */
export const PageQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE })),
  cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
});
export type PageQuery = Static<typeof PageQuery>;

/** The cursor of the page after this one; absent on the last page. */
export const NextCursor = Type.Optional(Type.String());

/** An appliance's name, as channels publish it. */
export const ApplianceName = Type.String({ pattern: '^[a-z0-9][a-z0-9-]{0,62}$' });
/** An appliance version. */
export const ApplianceVersion = Type.String({ pattern: '^[0-9A-Za-z.+-]{1,64}$' });
/** A launch parameter's value, after the descriptor's type. */
export const ParamValue = Type.Union([Type.String(), Type.Number(), Type.Boolean()]);
export type ParamValue = Static<typeof ParamValue>;
/** Launch parameters by name, as a request sends them. */
export const ParamValues = Type.Record(
  Type.String({ maxLength: 64 }),
  Type.Union([Type.String({ maxLength: 1024 }), Type.Number(), Type.Boolean()]),
  { maxProperties: 64 },
);
