/** Copies text to the clipboard and says so; falls back to selecting it where the clipboard is closed. */
import { useState } from 'preact/hooks';

export function CopyButton({ text, label = 'Copy' }: { readonly text: string; readonly label?: string }) {
  const [done, setDone] = useState<'copied' | 'select it' | ''>('');
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text);
      setDone('copied');
    } catch {
      setDone('select it');
    }
    setTimeout(() => setDone(''), 2000);
  };
  return (
    <button type="button" onClick={() => void copy()} aria-live="polite">
      {done === 'copied' ? 'Copied' : done === 'select it' ? 'Select and copy' : label}
    </button>
  );
}
