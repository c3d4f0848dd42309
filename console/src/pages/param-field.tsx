/** One declared parameter as a form field: its type's input, its default, its rule, its problem. */
import type { Parameter } from '../../../manager/protocol/index.js';
import { Field } from '../ui/field.js';

export function ParamField({
  p,
  value,
  problem,
  onChange,
}: {
  readonly p: Parameter;
  readonly value: string | boolean | undefined;
  readonly problem: string | undefined;
  readonly onChange: (v: string | boolean) => void;
}) {
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
  const hint = `${p.description} (${rule})`;
  const described = { 'aria-describedby': `${id}-hint`, 'aria-invalid': problem ? ('true' as const) : undefined };
  if (p.type === 'boolean') {
    return (
      <Field id={id} label={p.name} hint={hint} problem={problem ? `${p.name}: ${problem}` : undefined}>
        <input
          id={id}
          type="checkbox"
          name={p.name}
          checked={value === undefined ? p.default === true : value === true}
          onChange={(e) => onChange(e.currentTarget.checked)}
          {...described}
        />
      </Field>
    );
  }
  const common = {
    id,
    name: p.name,
    placeholder: p.default !== undefined ? String(p.default) : '',
    value: typeof value === 'string' ? value : '',
    required: p.default === undefined,
    onInput: (e: { currentTarget: HTMLInputElement }) => onChange(e.currentTarget.value),
    ...described,
  };
  return (
    <Field id={id} label={p.name} hint={hint} problem={problem ? `${p.name}: ${problem}` : undefined}>
      {p.type === 'integer' ? (
        <input type="number" inputMode="numeric" step={1} min={p.min} max={p.max} {...common} />
      ) : (
        <input type="text" spellcheck={false} {...common} />
      )}
    </Field>
  );
}
