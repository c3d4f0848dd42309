/** Appliance versions in the order an administrator reads them. */

/** Newest first: numeric semver parts, a pre-release below its release. */
export function compareVersionsDesc(a: string, b: string): number {
  const parse = (v: string) => {
    const [core = '', pre] = v.split('-', 2);
    return { nums: core.split('.').map(Number), pre };
  };
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < 3; i++) if ((x.nums[i] ?? 0) !== (y.nums[i] ?? 0)) return (y.nums[i] ?? 0) - (x.nums[i] ?? 0);
  if (x.pre === y.pre) return 0;
  return x.pre === undefined ? -1 : y.pre === undefined ? 1 : y.pre.localeCompare(x.pre);
}
