import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { MAIL_EVENTS, renderMailEvent, type MailEventName } from './mail-events.js';
import { MAIL_EVENT_TEXT_FORMS, exampleEvent, renderLogEventsDoc } from './render-log-events-doc.js';

/** The repo root: this file runs as dist/src/logging/log-events-doc.test.js, three levels below it. */
const DOC_PATH = fileURLToPath(new URL('../../../docs/LOG-EVENTS.md', import.meta.url));
const REGENERATE = 'npm run -s build && node dist/src/logging/render-log-events-doc.js > docs/LOG-EVENTS.md';

const catalogue = Object.keys(MAIL_EVENTS) as MailEventName[];

/** Event names in the first column of the doc's table rows. */
function documentedEvents(doc: string): string[] {
  const names: string[] = [];
  for (const l of doc.split('\n')) {
    const m = /^\| `([^`]+)` \|/.exec(l);
    if (m) names.push(m[1]!);
  }
  return names;
}

/** A text form as a regex: `<...>` placeholders match any non-empty text, everything else literally. */
function formRegex(form: string): RegExp {
  const parts = form.split(/<[^<>]+>/).map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^${parts.join('.+')}$`);
}

describe('docs/LOG-EVENTS.md', () => {
  it('lists every catalogue event and no other', async () => {
    const doc = await readFile(DOC_PATH, 'utf8');
    const documented = documentedEvents(doc);
    const missing = catalogue.filter((n) => !documented.includes(n));
    const extra = documented.filter((n) => !(n in MAIL_EVENTS));
    assert.deepEqual(missing, [], `events missing from docs/LOG-EVENTS.md; regenerate: ${REGENERATE}`);
    assert.deepEqual(extra, [], `docs/LOG-EVENTS.md lists events the catalogue lacks; regenerate: ${REGENERATE}`);
    assert.equal(documented.length, new Set(documented).size, 'no event is listed twice');
  });

  it('is exactly what render-log-events-doc produces', async () => {
    const doc = await readFile(DOC_PATH, 'utf8');
    assert.equal(doc, renderLogEventsDoc(), `docs/LOG-EVENTS.md is stale; regenerate: ${REGENERATE}`);
  });

  it('gives each event a text form that its rendered example matches', () => {
    for (const name of catalogue) {
      const text = renderMailEvent(exampleEvent(name)).text;
      assert.match(text, formRegex(MAIL_EVENT_TEXT_FORMS[name]), name);
    }
  });
});
