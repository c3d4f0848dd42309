/**
 * A confirmation in a modal `<dialog>`: focus moves into it, Escape cancels, the destructive
 * button is named for what it does.
 *
 * @example
 * const ask = useConfirm();
 * if (await ask.confirm({ title: 'Destroy web1?', body: '…', action: 'Destroy' })) …
 * return <>{ask.dialog}</>;
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';

export interface ConfirmRequest {
  readonly title: string;
  readonly body: ComponentChildren;
  readonly action: string;
}

export function useConfirm() {
  const [request, setRequest] = useState<(ConfirmRequest & { resolve: (ok: boolean) => void }) | undefined>(undefined);
  const ref = useRef<HTMLDialogElement>(null);
  const cancelRef = useRef<HTMLButtonElement>(null);

  useEffect(() => {
    if (request && ref.current && !ref.current.open) {
      ref.current.showModal();
      cancelRef.current?.focus();
    }
  }, [request]);

  const close = (ok: boolean) => {
    ref.current?.close();
    request?.resolve(ok);
    setRequest(undefined);
  };

  const dialog = request ? (
    <dialog
      ref={ref}
      class="confirm"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        close(false);
      }}
    >
      <h2 id="confirm-title">{request.title}</h2>
      <div class="confirm-body">{request.body}</div>
      <div class="actions">
        <button type="button" ref={cancelRef} onClick={() => close(false)}>
          Cancel
        </button>
        <button type="button" class="danger" onClick={() => close(true)}>
          {request.action}
        </button>
      </div>
    </dialog>
  ) : null;

  const confirm = (r: ConfirmRequest) => new Promise<boolean>((resolve) => setRequest({ ...r, resolve }));
  return { confirm, dialog };
}
