/** One declared parameter as a form field: its type's input, its default, its rule, its problem. */
import type { Parameter } from '../api/types.js';

export function ParamField({ p, value, problem, onChange }: { readonly p: Parameter; readonly value: string | boolean | undefined; readonly problem: string | undefined; readonly onChange: (v: string | boolean) => void }) {
  const id = `param-${p.name}`;
  const rule = [
    p.type,
    p.pattern ? `matching ${p.pattern}` : '',
    p.min !== undefined ? `≥ ${p.min}` : '',
    p.max !== undefined ? `≤ ${p.max}` : '',
    p.default !== undefined ? `default ${String(p.default)}` : 'required',
  ]
    .filter(Boolean)
    .join(', ');
  const hint = (
    <span class={problem ? 'field-error' : 'hint'} id={`${id}-hint`}>
      {problem ? `${p.name}: ${problem}` : `${p.description} (${rule})`}
    </span>
  );
  if (p.type === 'boolean') {
    return (
      <label class="check">
        <input type="checkbox" name={p.name} checked={value === undefined ? p.default === true : value === true} onChange={(e) => onChange(e.currentTarget.checked)} aria-describedby={`${id}-hint`} />
        {p.name}
        {hint}
      </label>
    );
  }
  const common = {
    id,
    name: p.name,
    placeholder: p.default !== undefined ? String(p.default) : '',
    value: typeof value === 'string' ? value : '',
    required: p.default === undefined,
    'aria-invalid': problem ? ('true' as const) : undefined,
    'aria-describedby': `${id}-hint`,
    onInput: (e: { currentTarget: HTMLInputElement }) => onChange(e.currentTarget.value),
  };
  return (
    <label>
      {p.name}
      {p.type === 'integer' ? <input type="number" inputMode="numeric" step={1} min={p.min} max={p.max} {...common} /> : <input type="text" spellcheck={false} {...common} />}
      {hint}
    </label>
  );
}
