/**
 * One admin action (create a certificate, edit a destination, commit...),
 * served twice from one definition: as a JSON API call (`method /api/...`)
 * and as an HTML form post (`POST /actions/<id>`, then a redirect back to its
 * page). The input schema parses both a JSON body and form fields (strings,
 * uploaded files); `run` calls the service layer and nothing else decides
 * anything. Errors keep their field path so pages show them next to the field
 * and the API returns them as `fields`.
 */
import { z } from 'zod';
import { ConfigError, UserError, errorMessage } from '../core/errors.js';
import type { Config } from '../config/schema.js';
import { editStaged } from '../services/staging.js';
import { validateConfig } from '../services/validate-config.js';
import type { GuiDeps } from './gui-deps.js';
import type { Flash } from './session-store.js';

export interface ActionContext {
  deps: GuiDeps;
  /** The admin user the request acts as. */
  user: string;
  /** `gui 192.0.2.1` or `api 192.0.2.1` (audit log). */
  from: string;
}

export interface Download {
  filename: string;
  contentType: string;
  body: Buffer | string;
}

export interface ActionResult {
  /** One sentence: what happened. */
  message: string;
  warnings?: string[];
  /** Returned as JSON by the API. */
  data?: Record<string, unknown>;
  /** Forms send this as a file; the API returns `data` (which holds the content too). */
  download?: Download;
  /** A secret shown once on the page (a new API token). */
  secret?: { label: string; value: string };
}

export interface Action<S extends z.ZodType = z.ZodType> {
  id: string;
  method: 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Hono path under /api, `:params` merged into the input. */
  apiPath: string;
  input: S;
  /** Form fields that never go back into the page (passphrases, files). */
  secretFields?: readonly string[];
  /** Form fields whose blank value means "empty" (clear it) rather than "not given". */
  keepBlank?: readonly string[];
  /** The page to return to after a form post. */
  page(input: Record<string, string>): string;
  run(ctx: ActionContext, input: z.infer<S>): Promise<ActionResult> | ActionResult;
}

export function defineAction<S extends z.ZodType>(action: Action<S>): Action {
  return action as unknown as Action;
}

/** A failed action as the API reports it (HTTP 400) and pages show it. */
export interface ActionFailure {
  error: string;
  /** Field path → message. */
  fields: Record<string, string>;
  /** Every configuration validation line, path first. */
  issues: string[];
}

/** Turns a thrown error into an ActionFailure, or rethrows what is not the user's doing. */
export function describeFailure(err: unknown, inputKeys: readonly string[]): ActionFailure {
  if (err instanceof z.ZodError) {
    const fields: Record<string, string> = {};
    for (const issue of err.issues) {
      const key = issue.path.map(String).join('.') || '_';
      fields[key] ??= issue.message;
    }
    const lines = Object.entries(fields).map(([k, m]) => `${k}: ${m}`);
    return { error: lines.length === 1 ? (lines[0] ?? 'invalid input') : 'invalid input', fields, issues: lines };
  }
  if (err instanceof ConfigError) {
    const fields: Record<string, string> = {};
    for (const line of err.issues) {
      const m = /^(\S+?):\s(.*)$/.exec(line);
      if (m === null) continue;
      const last = /([A-Za-z]+)(\[[^\]]*\])?$/.exec(m[1] ?? '')?.[1];
      if (last !== undefined && inputKeys.includes(last)) fields[last] ??= m[2] ?? '';
    }
    return { error: err.issues.length === 1 ? `invalid configuration: ${err.issues[0] ?? ''}` : err.message, fields, issues: [...err.issues] };
  }
  if (err instanceof UserError) return { error: err.message, fields: {}, issues: [] };
  throw err;
}

/** Blank form fields mean "not given": they become undefined before the schema sees them. */
export function blankToUndefined(input: Record<string, unknown>, keepBlank: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (keepBlank.includes(k) || !(typeof v === 'string' && v.trim() === '')) out[k] = v;
  return out;
}

/** The flash for a failed form: the errors and what was typed (secrets left out). */
export function failureFlash(form: string, failure: ActionFailure, values: Record<string, unknown>, secret: readonly string[]): Flash {
  const kept: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (typeof v === 'string' && !secret.includes(k) && k !== '_csrf') kept[k] = v;
  return { form, error: failure.error, fields: failure.fields, values: kept };
}

export { errorMessage };

/**
 * Runs a pure edit (services/edit-*.ts) through `editStaged`, as the CLI's
 * runStagedEdit does: full validation, staged until commit, audited as `audit`.
 * Only warnings the edit brought in are returned.
 */
export function stagedEdit(ctx: ActionContext, audit: string, edit: (draft: Config) => string): ActionResult {
  const before = validateConfig(ctx.deps.home.store.working());
  const known = new Set(before.ok ? before.warnings : []);
  let message = '';
  const r = editStaged(ctx.deps.home, ctx.user, audit, (draft) => {
    message = edit(draft);
  });
  const warnings = r.warnings.filter((w) => !known.has(w));
  return { message: `${message} (staged).`, warnings, data: { staged: true, message, warnings } };
}
