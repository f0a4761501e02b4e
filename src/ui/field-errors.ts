/**
 * A field's own error: aria-invalid on the control and a visible line beside it saying what the
 * field may hold. The bad text stays in the field for the user to fix; nothing replaces it.
 */

export interface FieldErrors {
  /** Marks the control invalid with `message`, or clears it (null). */
  set(control: HTMLElement, message: string | null): void;
  /** The messages of the controls marked now, in the order they were marked. */
  current(): { control: HTMLElement; message: string }[];
}

export function createFieldErrors(): FieldErrors {
  const marked = new Map<HTMLElement, string>();

  /** The line after the control (inside its label, when it sits in one), made on first use. */
  function line(control: HTMLElement): HTMLElement {
    const id = `${control.id}-error`;
    let el = document.getElementById(id);
    if (!el) {
      el = document.createElement('span');
      el.id = id;
      el.className = 'field-error';
      control.after(el);
      control.setAttribute('aria-describedby', id);
    }
    return el;
  }

  return {
    set(control, message) {
      if (message === null) {
        marked.delete(control);
        control.removeAttribute('aria-invalid');
        const el = document.getElementById(`${control.id}-error`);
        if (el) el.textContent = '';
        return;
      }
      marked.set(control, message);
      control.setAttribute('aria-invalid', 'true');
      line(control).textContent = message; // text: the message may quote what was typed
    },
    current: () => [...marked].map(([control, message]) => ({ control, message })),
  };
}
