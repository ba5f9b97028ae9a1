/** One listener: settings, RAT, sender groups (order, members) and mail flow policies with every TLS option. */
import { INBOUND_TLS_LEVELS } from '../../core/tls-levels.js';
import { findListener } from '../../services/edit-listeners.js';
import { ActionForm, Details, Field, hasErrorsFor, Section, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

const BEHAVIORS = ['accept', 'relay', 'reject', 'tcprefuse'] as const;

export function ListenerPage({ ctx, name }: { ctx: PageContext; name: string }) {
  const config = ctx.deps.home.store.working();
  const l = findListener(config, name);
  const f = { ctx };
  const lp = { listener: l.name };
  const profiles = config.certificates.map((c) => c.name);
  return (
    <Layout ctx={ctx} title={`Listener ${l.name}`}>
      <p>
        <a href="/listeners">← All listeners</a>
      </p>
      <Section title="Settings">
        <ActionForm {...f} action="listener-edit" params={{ name: l.name }}>
          <div class="grid">
            <Field {...f} action="listener-edit" params={{ name: l.name }} name="address" label="Address" value={l.address} />
            <Field {...f} action="listener-edit" params={{ name: l.name }} name="port" label="Port" type="number" value={l.port} />
            <Field {...f} action="listener-edit" params={{ name: l.name }} name="hostname" label="Host name" value={l.hostname} help={`Blank: the global host name (${config.hostname})`} />
            <Field
              {...f}
              action="listener-edit"
              params={{ name: l.name }}
              name="certificates"
              label="Certificates"
              value={l.certificates.join(', ')}
              help={`Comma-separated, first is the default. Profiles: ${profiles.join(', ')}`}
            />
          </div>
          <Submit label="Save listener" />
        </ActionForm>
        <ActionForm {...f} action="listener-delete" params={{ name: l.name }} confirm={`Delete listener ${l.name}?`}>
          <Submit label="Delete listener" danger />
        </ActionForm>
      </Section>
      {l.type === 'public' ? (
        <Section title="Recipient access table (RAT)">
          <Table
            head={['Domain', '']}
            rows={l.rat.map((d) => [
              d,
              <ActionForm {...f} action="rat-delete" params={{ ...lp, domain: d }} inline>
                <Submit label="Remove" danger />
              </ActionForm>,
            ])}
            empty="Empty: this listener accepts no recipient domain."
          />
          <ActionForm {...f} action="rat-add" params={lp} inline>
            <Field {...f} action="rat-add" params={lp} name="domain" label="Accept mail for" placeholder="example.com or .example.com" />
            <Submit label="Add" />
          </ActionForm>
        </Section>
      ) : null}
      <Section title="Sender groups (HAT, matched in order)">
        <Table
          head={['#', 'Group', 'Policy', 'Members', 'Comment', '']}
          rows={l.senderGroups.map((g, i) => {
            const gp = { ...lp, group: g.name };
            return [
              String(i + 1),
              <strong>{g.name}</strong>,
              g.policy,
              <ul class="members">
                {g.members.map((m) => (
                  <li>
                    {m}{' '}
                    <ActionForm {...f} action="member-delete" params={{ ...gp, member: m }} inline>
                      <button type="submit" class="link danger" title={`Remove ${m}`}>
                        ×
                      </button>
                    </ActionForm>
                  </li>
                ))}
                <li>
                  <ActionForm {...f} action="member-add" params={gp} inline>
                    <Field {...f} action="member-add" params={gp} name="member" label="Add member" placeholder="10.0.0.0/8, .example.com, sbrs[-10:-3], ALL" />
                    <Submit label="Add" />
                  </ActionForm>
                </li>
              </ul>,
              g.comment,
              <>
                <ActionForm {...f} action="sendergroup-move" params={gp} inline>
                  <Field {...f} action="sendergroup-move" params={gp} name="order" label="Position" type="number" value={i + 1} />
                  <Submit label="Move" />
                </ActionForm>
                <Details summary="Edit" open={hasErrorsFor(ctx, 'sendergroup-edit', gp)}>
                  <ActionForm {...f} action="sendergroup-edit" params={gp}>
                    <Field {...f} action="sendergroup-edit" params={gp} name="policy" label="Policy" options={l.policies.map((p) => p.name)} value={g.policy} />
                    <Field {...f} action="sendergroup-edit" params={gp} name="comment" label="Comment" value={g.comment} />
                    <Submit label="Save" />
                  </ActionForm>
                </Details>
                <ActionForm {...f} action="sendergroup-delete" params={gp} inline confirm={`Delete sender group ${g.name}?`}>
                  <Submit label="Delete" danger />
                </ActionForm>
              </>,
            ];
          })}
        />
        <Details summary="New sender group" open={hasErrorsFor(ctx, 'sendergroup-new', lp)}>
          <ActionForm {...f} action="sendergroup-new" params={lp}>
            <div class="grid">
              <Field {...f} action="sendergroup-new" params={lp} name="group" label="Name" required />
              <Field {...f} action="sendergroup-new" params={lp} name="policy" label="Policy" options={l.policies.map((p) => p.name)} />
              <Field {...f} action="sendergroup-new" params={lp} name="order" label="Position" type="number" help="Blank: before a trailing ALL group" />
              <Field {...f} action="sendergroup-new" params={lp} name="members" label="Members" help="Comma-separated" />
              <Field {...f} action="sendergroup-new" params={lp} name="comment" label="Comment" />
            </div>
            <Submit label="Create sender group" />
          </ActionForm>
        </Details>
      </Section>
      <Section title="Mail flow policies">
        <Table
          head={['Policy', 'Behavior', 'TLS', 'Verify client cert', 'TLS-mandatory senders', 'Max size', 'Rcpts/msg', 'Msgs/conn', 'Conns/IP', 'Rcpts/hour', '']}
          rows={l.policies.map((p) => {
            const pp = { ...lp, policy: p.name };
            return [
              <strong>{p.name}</strong>,
              p.behavior,
              p.tls,
              p.verifyClientCertificate ? 'on' : 'off',
              p.tlsMandatoryAddressList.join(', ') || '—',
              String(p.maxMessageSize),
              String(p.maxRecipientsPerMessage),
              String(p.maxMessagesPerConnection),
              String(p.maxConnectionsPerIp),
              p.maxRecipientsPerHour === null ? 'unlimited' : String(p.maxRecipientsPerHour),
              <>
                <Details summary="Edit" open={hasErrorsFor(ctx, 'policy-edit', pp)}>
                  <PolicyForm ctx={ctx} action="policy-edit" params={pp} policy={p} />
                </Details>
                <ActionForm {...f} action="policy-delete" params={pp} inline confirm={`Delete mail flow policy ${p.name}?`}>
                  <Submit label="Delete" danger />
                </ActionForm>
              </>,
            ];
          })}
        />
        <Details summary="New mail flow policy" open={hasErrorsFor(ctx, 'policy-new', lp)}>
          <PolicyForm ctx={ctx} action="policy-new" params={lp} />
        </Details>
      </Section>
    </Layout>
  );
}

type Policy = ReturnType<typeof findListener>['policies'][number];

function PolicyForm({ ctx, action, params, policy }: { ctx: PageContext; action: string; params: Record<string, string>; policy?: Policy }) {
  const f = { ctx, action, params };
  return (
    <ActionForm ctx={ctx} action={action} params={params}>
      <div class="grid">
        {policy === undefined ? <Field {...f} name="policy" label="Name" required /> : null}
        <Field {...f} name="behavior" label="Behavior" options={BEHAVIORS} value={policy?.behavior ?? 'accept'} />
        <Field {...f} name="tls" label="TLS" options={INBOUND_TLS_LEVELS} value={policy?.tls ?? 'preferred'} />
        <Field {...f} name="verifyClientCertificate" label="Verify client certificate" type="checkbox" value={policy?.verifyClientCertificate ?? false} />
        <Field {...f} name="tlsMandatoryAddressList" label="TLS-mandatory senders" value={policy?.tlsMandatoryAddressList.join(', ')} help="a@b, @domain, .domain (when TLS is preferred)" />
        <Field {...f} name="maxMessageSize" label="Max message size (bytes)" type="number" value={policy?.maxMessageSize} />
        <Field {...f} name="maxRecipientsPerMessage" label="Max recipients per message" type="number" value={policy?.maxRecipientsPerMessage} />
        <Field {...f} name="maxMessagesPerConnection" label="Max messages per connection" type="number" value={policy?.maxMessagesPerConnection} />
        <Field {...f} name="maxConnectionsPerIp" label="Max connections per IP" type="number" value={policy?.maxConnectionsPerIp} />
        <Field {...f} name="maxRecipientsPerHour" label="Max recipients per hour" type="number" value={policy?.maxRecipientsPerHour ?? ''} help="Blank: unlimited" />
      </div>
      <Submit label={policy === undefined ? 'Create policy' : 'Save policy'} />
    </ActionForm>
  );
}
