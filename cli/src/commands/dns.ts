/** `storm dns ls | add TYPE NAME VALUE | rm ID`: the manager's DNS records (`/api/v1/dns/records`). */
import { intFlag, parseCommand } from '../args.js';
import type { CommandSpec } from '../command.js';
import type { CliContext } from '../context.js';
import { UsageError } from '../errors.js';
import { cell } from '../format.js';
import { printList, serviceCall, serviceList } from '../service-api.js';

const WHAT = 'DNS records';
const COLUMNS = ['id', 'type', 'name', 'value', 'ttl', 'instanceId', 'createdAt'];

export const dns: CommandSpec = {
  name: 'dns',
  usage: ['dns ls', 'dns add TYPE NAME VALUE... [--ttl SECONDS]', 'dns rm ID'],
  summary: "records in the manager's DNS zone: list, add, remove",
  details: `  ls                      every record, the administrator's and the appliances' (also: storm dns)
  add TYPE NAME VALUE...  a record: MX "PREFERENCE EXCHANGE", SRV "PRIORITY WEIGHT PORT TARGET",
                          TXT text, CNAME target; NAME relative to the zone, @ for the zone itself;
                          the words after NAME make the value
      --ttl SECONDS       time to live (default: the zone's)
  rm ID                   remove a record

examples:
  storm dns add MX @ 10 mail
  storm dns add TXT @ "v=spf1 a -all" --ttl 300
  storm dns rm 7`,
  async run(ctx, args) {
    const [sub, ...rest] = args;
    switch (sub) {
      case 'ls':
      case undefined:
        parseCommand(rest, {}, { min: 0, max: 0 });
        printList(ctx, await serviceList(ctx, WHAT, '/dns/records'), 'no DNS records', COLUMNS);
        return 0;
      case 'add':
        return add(ctx, rest);
      case 'rm': {
        const { positionals } = parseCommand(rest, {}, { min: 1, max: 1 });
        await serviceCall(WHAT, () => ctx.api.delete(`/dns/records/${encodeURIComponent(positionals[0]!)}`));
        ctx.print({ id: positionals[0], removed: true }, `removed record ${positionals[0]}`);
        return 0;
      }
      default:
        throw new UsageError(`unknown dns command ${JSON.stringify(sub)}`);
    }
  },
};

async function add(ctx: CliContext, args: readonly string[]): Promise<number> {
  const { values, positionals } = parseCommand(args, { ttl: { type: 'string' } }, { min: 3, max: 64 });
  const [type, name, ...value] = positionals as [string, string, ...string[]];
  const ttl = intFlag(values.ttl, 'ttl', 0, 604_800);
  const body = { type: type.toUpperCase(), name, value: value.join(' '), ...(ttl === undefined ? {} : { ttl }) };
  const record = await serviceCall(WHAT, () => ctx.api.post<Record<string, unknown>>('/dns/records', body));
  const id = cell(record?.['id']);
  ctx.print(
    record,
    `added ${id ? `record ${id}: ` : ''}${cell(record?.['name']) ?? name} ${body.type} ${cell(record?.['value']) ?? body.value}`,
  );
  return 0;
}
