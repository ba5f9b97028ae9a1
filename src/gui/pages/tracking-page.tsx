/** Mail Logs & Message Tracking: find messages by MID, sender, recipient and time (their whole story), search the mail logs, and the newest lines. */
import type { MessageStory } from '../../services/message-tracking.js';
import { Section, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

function tlsIn(s: MessageStory): string {
  const t = s.tlsIn;
  if (t === null) return '—';
  return t.status === 'encrypted' ? `${t.protocol ?? ''} ${t.cipher ?? ''}`.trim() : t.status === 'failed' ? `failed: ${t.failure ?? ''}` : 'plaintext';
}

function tlsOut(s: MessageStory): string {
  const last = s.attempts.at(-1);
  if (last === undefined) return '—';
  if (last.requiredTlsFailed) return 'required TLS failed';
  if (last.tls === null) return last.downgraded ? `plaintext (${last.downgraded})` : 'plaintext';
  const v = last.verification;
  return `${last.tls.protocol} ${v === null ? '' : v.verified ? `verified (${v.identifier})` : `not verified: ${v.reason}`}`.trim();
}

export function TrackingPage({
  ctx,
  stories,
  grep,
  tail,
  error,
}: {
  ctx: PageContext;
  stories: MessageStory[] | undefined;
  grep: { pattern: string; lines: string[]; truncated: boolean } | undefined;
  tail: string[];
  error: string | undefined;
}) {
  const q = ctx.query;
  return (
    <Layout ctx={ctx} title="Mail Logs & Message Tracking">
      {error ? <div class="flash flash-error">{error}</div> : null}
      <Section title="Message tracking">
        <form method="get" action="/tracking" class="form" id="track-form">
          <div class="grid">
            <div class="field">
              <label for="mid">MID</label>
              <input id="mid" name="mid" value={q['mid'] ?? ''} inputmode="numeric" />
            </div>
            <div class="field">
              <label for="from">Sender</label>
              <input id="from" name="from" value={q['from'] ?? ''} placeholder="a@example.com or @example.com" />
            </div>
            <div class="field">
              <label for="to">Recipient</label>
              <input id="to" name="to" value={q['to'] ?? ''} placeholder="b@example.org or example.org" />
            </div>
            <div class="field">
              <label for="since">Since</label>
              <input id="since" name="since" value={q['since'] ?? ''} placeholder="24h, 7d or 2026-11-29T10:00" />
            </div>
            <div class="field">
              <label for="until">Until</label>
              <input id="until" name="until" value={q['until'] ?? ''} placeholder="2026-11-29T12:00" />
            </div>
          </div>
          <button type="submit">Track</button>
        </form>
        {stories === undefined ? null : (
          <>
            <Table
              head={['MID', 'Received', 'From', 'Recipients', 'Outcome', 'TLS in', 'TLS out', 'Size']}
              rows={stories.map((s) => [
                <a href={`/tracking?mid=${s.mid}`}>{String(s.mid)}</a>,
                s.receivedAt ?? '—',
                s.from ?? '—',
                <ul class="members">
                  {s.recipients.map((r) => (
                    <li>{`${r.to}: ${r.status}${r.reason ? ` (${r.reason})` : ''}`}</li>
                  ))}
                </ul>,
                <span class={`badge badge-${s.outcome === 'delivered' ? 'ok' : s.outcome === 'deferred' || s.outcome === 'queued' ? 'warning' : 'error'}`}>{s.outcome}</span>,
                tlsIn(s),
                tlsOut(s),
                s.bytes === null ? '—' : `${s.bytes} bytes`,
              ])}
              empty="No message matches."
            />
            {stories.length <= 5
              ? stories.map((s) => (
                  <details open={stories.length === 1}>
                    <summary>{`MID ${s.mid}: the log lines`}</summary>
                    <pre class="steps">{s.lines.map((l) => `${l.time} ${l.level}: ${l.text}`).join('\n')}</pre>
                  </details>
                ))
              : null}
          </>
        )}
      </Section>
      <Section title="Search the mail logs">
        <form method="get" action="/tracking" class="form inline">
          <div class="field">
            <label for="grep">Regular expression</label>
            <input id="grep" name="grep" value={q['grep'] ?? ''} placeholder="DCID \d+ TLS" />
          </div>
          <button type="submit">Search</button>
        </form>
        {grep === undefined ? null : (
          <>
            <p class="help">{`${grep.lines.length} matching line${grep.lines.length === 1 ? '' : 's'}${grep.truncated ? ' (the newest 500)' : ''}`}</p>
            <pre class="steps">{grep.lines.join('\n')}</pre>
          </>
        )}
      </Section>
      <Section title="Newest lines of mail.current">
        <pre class="steps" id="tail">{tail.join('\n') || '(empty)'}</pre>
      </Section>
    </Layout>
  );
}
