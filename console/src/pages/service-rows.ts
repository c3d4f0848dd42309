/** The rows and columns of a service's list answer, whatever its exact shape. */

export type Row = Readonly<Record<string, unknown>>;

export function rowsOf(answer: unknown): Row[] {
  if (Array.isArray(answer)) return answer as Row[];
  if (answer && typeof answer === 'object') {
    const list = Object.values(answer).find(Array.isArray);
    if (list) return list as Row[];
  }
  return [];
}

/** Columns: `preferred` first (when present), then the rest in first-seen order. */
export function columnsOf(rows: readonly Row[], preferred: readonly string[]): string[] {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return [...preferred.filter((k) => keys.includes(k)), ...keys.filter((k) => !preferred.includes(k))];
}
