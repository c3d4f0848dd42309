/**
 * Renders the `{{…}}` templates of an appliance's config items and declared records: a launch
 * parameter by name, or an instance variable (`instance.name`, `.fqdn`, `.domain`, `.ip`, `.mac`).
 * An unknown placeholder renders empty (the channel reader already refused such descriptors).
 *
 * @example
 * renderTemplate('http://{{instance.fqdn}}/', { params: {}, instance }); // 'http://web1.storm.internal/'
 */
export interface TemplateContext {
  readonly params: Readonly<Record<string, unknown>>;
  readonly instance: { readonly name: string; readonly fqdn: string; readonly domain: string; readonly ip: string; readonly mac: string };
}

export function renderTemplate(template: string, ctx: TemplateContext): string {
  return template.replace(/\{\{\s*([A-Za-z0-9_.]+)\s*\}\}/g, (_m, name: string) => {
    if (name.startsWith('instance.')) {
      const key = name.slice('instance.'.length) as keyof TemplateContext['instance'];
      return Object.hasOwn(ctx.instance, key) ? ctx.instance[key] : '';
    }
    return Object.hasOwn(ctx.params, name) ? String(ctx.params[name]) : '';
  });
}
