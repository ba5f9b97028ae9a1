/** Destination Controls: the per-domain table, add/edit/delete, the default entry and the global outbound settings. */
import { OUTBOUND_TLS_LEVELS } from '../../core/tls-levels.js';
import type { DestinationSettings } from '../../config/schema.js';
import { ActionForm, Details, Field, hasErrorsFor, Section, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

const IP_PREFERENCES = ['prefer-v4', 'prefer-v6', 'require-v4', 'require-v6'] as const;

function limitText(d: DestinationSettings): string {
  return d.maxRecipientsPerPeriod === null ? 'none' : `${d.maxRecipientsPerPeriod} per ${d.periodMinutes} min`;
}

export function DestinationsPage({ ctx }: { ctx: PageContext }) {
  const dc = ctx.deps.home.store.working().destinationControls;
  const profiles = ctx.deps.home.store.working().certificates.map((c) => c.name);
  const f = { ctx };
  return (
    <Layout ctx={ctx} title="Destination Controls">
      <Section title="Destinations">
        <Table
          head={['Destination', 'TLS', 'Max concurrency', 'Msgs/conn', 'Recipient limit', 'IP preference', '']}
          rows={[
            [<em>Default</em>, dc.default.tls, String(dc.default.maxConcurrency), String(dc.default.maxMessagesPerConnection), limitText(dc.default), dc.default.ipPreference, <a href="#default">Edit</a>],
            ...dc.domains.map((d) => {
              const p = { domain: d.domain };
              return [
                <strong>{d.domain}</strong>,
                <span class={`tls tls-${d.tls}`}>{d.tls}</span>,
                String(d.maxConcurrency),
                String(d.maxMessagesPerConnection),
                limitText(d),
                d.ipPreference,
                <>
                  <Details summary="Edit" open={hasErrorsFor(ctx, 'destination-edit', p)}>
                    <SettingsForm ctx={ctx} action="destination-edit" params={p} settings={d} />
                  </Details>
                  <ActionForm {...f} action="destination-delete" params={p} inline confirm={`Delete the destination control for ${d.domain}?`}>
                    <Submit label="Delete" danger />
                  </ActionForm>
                </>,
              ];
            }),
          ]}
        />
      </Section>
      <Section title="Add a destination" id="add">
        <SettingsForm ctx={ctx} action="destination-new" params={{}} settings={dc.default} withDomain />
      </Section>
      <Section title="Default entry" id="default">
        <p class="help">Used by every destination without its own entry.</p>
        <SettingsForm ctx={ctx} action="destination-default" params={{}} settings={dc.default} />
      </Section>
      <Section title="Global settings" id="global">
        <ActionForm {...f} action="destination-setup">
          <div class="grid">
            <Field
              {...f}
              action="destination-setup"
              name="certificate"
              label="Outbound client certificate"
              options={[['none', 'none'], ...profiles.map((p): [string, string] => [p, p])]}
              value={dc.certificate ?? 'none'}
              help="Offered to servers that ask for one"
            />
            <Field {...f} action="destination-setup" name="alertOnRequiredTlsFailure" label="Alert on required-TLS failure" type="checkbox" value={dc.alertOnRequiredTlsFailure} />
            <Field
              {...f}
              action="destination-setup"
              name="sourceAddressV4"
              label="Source address (IPv4)"
              value={dc.sourceAddressV4 ?? ''}
              help="Local address for connections to IPv4 next hops; blank: the OS chooses"
            />
            <Field
              {...f}
              action="destination-setup"
              name="sourceAddressV6"
              label="Source address (IPv6)"
              value={dc.sourceAddressV6 ?? ''}
              help="Local address for connections to IPv6 next hops; blank: the OS chooses"
            />
          </div>
          <Submit label="Save global settings" />
        </ActionForm>
      </Section>
      <Section title="Export and import">
        <p>
          <a href="/destinations/export">Download the destination controls (YAML)</a>
        </p>
        <ActionForm {...f} action="destination-import" multipart confirm="Replace every destination control with the file's?">
          <Field {...f} action="destination-import" name="file" label="Import (replaces all entries)" type="file" required />
          <Submit label="Import" />
        </ActionForm>
      </Section>
    </Layout>
  );
}

function SettingsForm({ ctx, action, params, settings, withDomain }: { ctx: PageContext; action: string; params: Record<string, string>; settings: DestinationSettings; withDomain?: boolean }) {
  const f = { ctx, action, params };
  return (
    <ActionForm ctx={ctx} action={action} params={params}>
      <div class="grid">
        {withDomain ? <Field {...f} name="domain" label="Domain" placeholder="example.com, .example.com or [192.0.2.1]" required /> : null}
        <Field {...f} name="tls" label="TLS" options={OUTBOUND_TLS_LEVELS} value={settings.tls} />
        <Field {...f} name="maxConcurrency" label="Max concurrency" type="number" value={settings.maxConcurrency} />
        <Field {...f} name="maxMessagesPerConnection" label="Max messages per connection" type="number" value={settings.maxMessagesPerConnection} />
        <Field {...f} name="maxRecipientsPerPeriod" label="Max recipients per period" type="number" value={settings.maxRecipientsPerPeriod ?? ''} help="Blank: no limit" />
        <Field {...f} name="periodMinutes" label="Period (minutes)" type="number" value={settings.periodMinutes} />
        <Field {...f} name="ipPreference" label="IP preference" options={IP_PREFERENCES} value={settings.ipPreference} />
      </div>
      <Submit label={withDomain ? 'Add destination' : 'Save'} />
    </ActionForm>
  );
}
