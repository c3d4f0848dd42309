/**
 * The manager's answers as the CLI reads them: its wire types (`manager/protocol/`), imported as
 * types only, so nothing of the manager runs in the CLI and a change of shape fails to compile here.
 *
 * @example
 * const { instances } = await ctx.api.get<InstanceList>('/instances');
 */
export type * from '../../manager/protocol/index.js';
