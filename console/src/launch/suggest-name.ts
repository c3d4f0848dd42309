/** The launch form's suggested instance name: the first free `hello-web-1`, `hello-web-2`, … */
export function suggestName(appliance: string, taken: ReadonlySet<string>): string {
  for (let n = 1; ; n++) {
    const name = `${appliance.slice(0, 58)}-${n}`;
    if (!taken.has(name)) return name;
  }
}
