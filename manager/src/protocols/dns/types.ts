/** DNS type numbers we name (RFC 1035, 3596, 2782, 6891); others are answered by number. */
export const TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'A',
  2: 'NS',
  5: 'CNAME',
  6: 'SOA',
  12: 'PTR',
  15: 'MX',
  16: 'TXT',
  28: 'AAAA',
  33: 'SRV',
  41: 'OPT',
  251: 'IXFR',
  252: 'AXFR',
  255: 'ANY',
};

export const CLASS_IN = 1;
export const CLASS_ANY = 255;

export function typeName(type: number): string {
  return TYPE_NAMES[type] ?? `TYPE${type}`;
}
