/**
 * A labelled form field: the label names the input (and only that), the hint or the problem is
 * tied to it with aria-describedby, so screen readers read both and tests find it by its label.
 */
import type { ComponentChildren } from 'preact';

export function Field({
  id,
  label,
  hint,
  problem,
  children,
}: {
  readonly id: string;
  readonly label: ComponentChildren;
  readonly hint?: ComponentChildren;
  readonly problem?: string | undefined;
  readonly children: ComponentChildren;
}) {
  return (
    <div class="field">
      <label for={id}>{label}</label>
      {children}
      {problem ? (
        <span class="field-error" id={`${id}-hint`}>
          {problem}
        </span>
      ) : hint ? (
        <span class="hint" id={`${id}-hint`}>
          {hint}
        </span>
      ) : null}
    </div>
  );
}
