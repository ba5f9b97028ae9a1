/** Alerts: recipients with their classes and severities, settings, and the history of alerts sent. */
import { readAlertHistory } from '../../services/alert-history.js';
import { ALERT_CLASSES, ALERT_SEVERITIES } from '../../services/edit-alerts.js';
import { ActionForm, Field, Section, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function AlertsPage({ ctx }: { ctx: PageContext }) {
  const alerts = ctx.deps.home.store.working().alerts;
  const history = readAlertHistory(ctx.deps.home.layout, { limit: 200 }).reverse();
  const f = { ctx };
  return (
    <Layout ctx={ctx} title="Alerts">
      <Section title="Recipients">
        <Table
          head={['Address', 'Classes', 'Severities', '']}
          rows={alerts.recipients.map((r) => [
            r.address,
            r.classes.join(', '),
            r.severities.join(', '),
            <ActionForm {...f} action="alert-recipient-delete" params={{ address: r.address }} inline confirm={`Stop sending alerts to ${r.address}?`}>
              <Submit label="Delete" danger />
            </ActionForm>,
          ])}
          empty="No recipients: alerts are only kept in the history."
        />
        <ActionForm {...f} action="alert-recipient-new">
          <div class="grid">
            <Field {...f} action="alert-recipient-new" name="address" label="Address" type="email" required />
            <Field {...f} action="alert-recipient-new" name="classes" label="Classes" help={`Comma-separated; blank: all (${ALERT_CLASSES.join(', ')})`} />
            <Field {...f} action="alert-recipient-new" name="severities" label="Severities" help={`Comma-separated; blank: all (${ALERT_SEVERITIES.join(', ')})`} />
          </div>
          <Submit label="Add recipient" />
        </ActionForm>
      </Section>
      <Section title="Settings">
        <ActionForm {...f} action="alert-setup">
          <div class="grid">
            <Field {...f} action="alert-setup" name="from" label="From address" value={alerts.from ?? ''} help="Blank: the default sender" />
            <Field {...f} action="alert-setup" name="debounceMinutes" label="Debounce (minutes)" type="number" value={alerts.debounceMinutes} help="A repeating condition is not re-sent within this time" />
            <Field {...f} action="alert-setup" name="checkIntervalSeconds" label="Check interval (seconds)" type="number" value={alerts.checkIntervalSeconds} help="Certificate expiry and queue size" />
            <Field {...f} action="alert-setup" name="tlsFailureThreshold" label="TLS handshake failures" type="number" value={alerts.tlsFailureThreshold} help="Alert above this many in the window; 0: off" />
            <Field {...f} action="alert-setup" name="tlsFailureWindowMinutes" label="Window (minutes)" type="number" value={alerts.tlsFailureWindowMinutes} />
            <Field {...f} action="alert-setup" name="queueThreshold" label="Queue size" type="number" value={alerts.queueThreshold} help="Alert above this many messages; 0: off" />
          </div>
          <Submit label="Save settings" />
        </ActionForm>
      </Section>
      <Section title="History">
        <Table
          head={['Time', 'Class', 'Severity', 'Subject', 'Sent to', 'MID']}
          rows={history.map((h) => [
            h.time,
            h.class,
            <span class={`badge badge-${h.severity}`}>{h.severity}</span>,
            h.subject,
            h.sent ? h.recipients.join(', ') : `not sent${h.note ? `: ${h.note}` : ''}`,
            h.mid === null ? '—' : <a href={`/tracking?mid=${h.mid}`}>{String(h.mid)}</a>,
          ])}
          empty="No alert has been sent."
        />
      </Section>
    </Layout>
  );
}
