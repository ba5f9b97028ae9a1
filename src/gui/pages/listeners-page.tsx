/** Listeners & HAT: the listeners, and a new one. Each listener's page holds its RAT, sender groups and mail flow policies. */
import { ActionForm, Field, Section, Submit, Table } from '../components.js';
import { Layout } from '../layout.js';
import type { PageContext } from '../page-context.js';

export function ListenersPage({ ctx }: { ctx: PageContext }) {
  const config = ctx.deps.home.store.working();
  const f = { ctx };
  return (
    <Layout ctx={ctx} title="Listeners & HAT">
      <Section title="Listeners">
        <Table
          head={['Name', 'Type', 'Address', 'Port', 'Host name', 'Certificates', 'Sender groups', 'Policies', 'RAT']}
          rows={config.listeners.map((l) => [
            <a href={`/listeners/${encodeURIComponent(l.name)}`}>{l.name}</a>,
            l.type,
            l.address,
            String(l.port),
            l.hostname ?? `${config.hostname} (global)`,
            l.certificates.join(', '),
            String(l.senderGroups.length),
            String(l.policies.length),
            l.type === 'public' ? (l.rat.length === 0 ? 'empty: accepts no domain' : l.rat.join(', ')) : '—',
          ])}
          empty="No listeners: this gateway only delivers."
        />
      </Section>
      <Section title="New listener">
        <p class="help">A new listener gets the default HAT of its type (sender groups and mail flow policies).</p>
        <ActionForm {...f} action="listener-new">
          <div class="grid">
            <Field {...f} action="listener-new" name="name" label="Name" required />
            <Field {...f} action="listener-new" name="type" label="Type" options={['public', 'private']} value="public" />
            <Field {...f} action="listener-new" name="address" label="Address" value="127.0.0.1" required />
            <Field {...f} action="listener-new" name="port" label="Port" type="number" required />
            <Field {...f} action="listener-new" name="hostname" label="Host name" help="Banner and EHLO name; blank: the global host name" />
            <Field {...f} action="listener-new" name="certificates" label="Certificates" help="Profile names, comma-separated; the first is the default, others by SNI" />
          </div>
          <Submit label="Create listener" />
        </ActionForm>
      </Section>
    </Layout>
  );
}
