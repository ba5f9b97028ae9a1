/**
 * The building blocks of every page: forms that post to an action (with the
 * CSRF token and the action's target as hidden fields), fields that show
 * their validation error next to them and keep what was typed, tables.
 */
import type { Child } from 'hono/jsx';
import { formKey, type PageContext } from './page-context.js';

export interface FormProps {
  ctx: PageContext;
  action: string;
  params?: Record<string, string>;
  multipart?: boolean;
  /** Asks before sending (gui.js). */
  confirm?: string;
  inline?: boolean;
  id?: string;
  children?: Child;
}

export function ActionForm({ ctx, action, params = {}, multipart, confirm, inline, id, children }: FormProps) {
  const key = formKey(action, params);
  return (
    <form
      method="post"
      action={`/actions/${action}`}
      enctype={multipart ? 'multipart/form-data' : undefined}
      class={inline ? 'inline' : 'form'}
      data-confirm={confirm}
      id={id}
      data-form={key}
    >
      <input type="hidden" name="_csrf" value={ctx.session.csrfToken} />
      <input type="hidden" name="_form" value={key} />
      {Object.entries(params).map(([k, v]) => (
        <input type="hidden" name={k} value={v} />
      ))}
      {children}
    </form>
  );
}

export interface FieldProps {
  ctx: PageContext;
  /** The form's action and params, to find this form's errors and values in the flash. */
  action: string;
  params?: Record<string, string>;
  name: string;
  label: string;
  type?: 'text' | 'number' | 'password' | 'file' | 'email' | 'checkbox' | 'textarea';
  value?: string | number | boolean | null | undefined;
  options?: readonly (string | [string, string])[];
  help?: string;
  required?: boolean;
  multiple?: boolean;
  placeholder?: string;
}

export function Field({ ctx, action, params = {}, name, label, type = 'text', value, options, help, required, multiple, placeholder }: FieldProps) {
  const flash = ctx.flash?.form === formKey(action, params) ? ctx.flash : undefined;
  const error = flash?.fields?.[name];
  const typed = flash?.values?.[name];
  const current = typed ?? (value === null || value === undefined ? '' : String(value));
  const id = `f-${formKey(action, params).replace(/[^A-Za-z0-9_-]/g, '_')}-${name}`;
  let control;
  if (options !== undefined) {
    control = (
      <select id={id} name={name} aria-invalid={error ? 'true' : undefined}>
        {options.map((o) => {
          const [v, text] = typeof o === 'string' ? [o, o] : o;
          return (
            <option value={v} selected={v === current}>
              {text}
            </option>
          );
        })}
      </select>
    );
  } else if (type === 'checkbox') {
    control = (
      <>
        <input type="hidden" name={name} value="off" />
        <input id={id} type="checkbox" name={name} value="on" checked={typed !== undefined ? typed === 'on' : value === true} />
      </>
    );
  } else if (type === 'textarea') {
    control = (
      <textarea id={id} name={name} rows={4} placeholder={placeholder} aria-invalid={error ? 'true' : undefined}>
        {current}
      </textarea>
    );
  } else {
    control = (
      <input
        id={id}
        type={type}
        name={name}
        value={type === 'password' || type === 'file' ? undefined : current}
        required={required}
        multiple={multiple}
        placeholder={placeholder}
        aria-invalid={error ? 'true' : undefined}
        autocomplete={type === 'password' ? 'new-password' : 'off'}
      />
    );
  }
  return (
    <div class={error ? 'field has-error' : 'field'}>
      <label for={id}>{label}</label>
      {control}
      {error ? <span class="field-error">{error}</span> : help ? <span class="help">{help}</span> : null}
    </div>
  );
}

export function Submit({ label, danger }: { label: string; danger?: boolean }) {
  return (
    <button type="submit" class={danger ? 'danger' : undefined}>
      {label}
    </button>
  );
}

export function Table({ head, rows, empty }: { head: Child[]; rows: Child[][]; empty?: string }) {
  return (
    <table>
      <thead>
        <tr>
          {head.map((h) => (
            <th>{h}</th>
          ))}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colspan={head.length} class="empty">
              {empty ?? 'None'}
            </td>
          </tr>
        ) : (
          rows.map((r) => (
            <tr>
              {r.map((cell) => (
                <td>{cell}</td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function Section({ title, children, id }: { title: string; children?: Child; id?: string }) {
  return (
    <section class="card" id={id}>
      <h2>{title}</h2>
      {children}
    </section>
  );
}

/** A collapsible block for forms that are not needed every time. */
export function Details({ summary, children, open }: { summary: string; children?: Child; open?: boolean }) {
  return (
    <details open={open}>
      <summary>{summary}</summary>
      {children}
    </details>
  );
}

export function StatusBadge({ status, label }: { status: string; label: string }) {
  return <span class={`badge badge-${status}`}>{label}</span>;
}

/** Whether a flash belongs to a form of this action (to keep its <details> open). */
export function hasErrorsFor(ctx: PageContext, action: string, params: Record<string, string> = {}): boolean {
  return ctx.flash?.form === formKey(action, params);
}
