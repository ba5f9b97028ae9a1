/**
 * The one way to change configuration: take the working document (staged, or
 * the committed one), edit a copy, validate it fully, stage it. Every editing
 * command of the CLI and (later) the GUI goes through `editStaged`.
 */
import { ConfigError, UserError } from '../core/errors.js';
import { homeLayout, type HomeLayout } from '../core/home-layout.js';
import { ConfigStore } from '../config/config-store.js';
import type { Config } from '../config/schema.js';
import { appendAudit } from './audit-log.js';
import { validateConfig } from './validate-config.js';

export interface Home {
  layout: HomeLayout;
  store: ConfigStore;
}

/** Opens an initialised home, or fails with a clear message. */
export function openHome(root: string): Home {
  const layout = homeLayout(root);
  const store = new ConfigStore(layout);
  if (!store.isInitialised()) throw new UserError(`${layout.root} has no configuration: run "gatehouse init" first`);
  return { layout, store };
}

export interface EditResult {
  config: Config;
  warnings: string[];
}

/**
 * Applies `edit` to a copy of the working configuration and stages the result
 * if it validates; otherwise nothing changes and every error is reported.
 * `action` goes to the audit log (no secrets in it).
 */
export function editStaged(home: Home, user: string, action: string, edit: (draft: Config) => void): EditResult {
  // Under the configuration lock: a commit from another process cannot slip in
  // between reading the working document and staging the edited one.
  return home.store.locked(() => {
    const draft = structuredClone(home.store.working());
    edit(draft);
    const v = validateConfig(draft);
    if (!v.ok) throw new ConfigError(v.errors);
    home.store.stage(v.config, user);
    appendAudit(home.layout, { user, action });
    return { config: v.config, warnings: v.warnings };
  });
}
