/**
 * Certificates page and /api/certificates, /api/truststore: every change goes
 * through services/certificates.ts (staged until commit).
 */
import { z } from 'zod';
import type { CertificateChangeResult } from '../../services/certificates.js';
import * as certs from '../../services/certificates.js';
import { KEY_ALGORITHMS, type KeyAlgorithm } from '../../tls/self-signed.js';
import { defineAction, type ActionResult } from '../action.js';
import { binary, content, list, name, optionalInt, bool } from '../input.js';

const PAGE = () => '/certificates';

function changed(r: CertificateChangeResult): ActionResult {
  return { message: `${r.message} (staged).`, warnings: r.warnings, data: { staged: true, message: r.message, warnings: r.warnings, findings: r.findings } };
}

export const certificateActions = [
  defineAction({
    id: 'certificate-new',
    method: 'POST',
    apiPath: '/certificates',
    input: z.object({
      name: name('name'),
      cn: name('common name'),
      org: z.string().optional(),
      ou: z.string().optional(),
      city: z.string().optional(),
      state: z.string().optional(),
      country: z.string().optional(),
      san: list().optional(),
      days: optionalInt(),
      key: z.enum(KEY_ALGORITHMS as [KeyAlgorithm, ...KeyAlgorithm[]]).optional(),
    }),
    page: PAGE,
    run: async ({ deps, user }, i) =>
      changed(
        await certs.createProfile(deps.home, user, {
          name: i.name,
          subject: { cn: i.cn, org: i.org, ou: i.ou, city: i.city, state: i.state, country: i.country, san: i.san && i.san.length > 0 ? i.san : undefined },
          days: i.days,
          key: i.key,
        }),
      ),
  }),
  defineAction({
    id: 'certificate-upload',
    method: 'PUT',
    apiPath: '/certificates/:name/certificate',
    input: z.object({ name: name(), certificate: content(), intermediates: z.array(content()).optional() }),
    secretFields: ['certificate', 'intermediates'],
    page: (i) => `/certificates/${encodeURIComponent(i['name'] ?? '')}`,
    run: async ({ deps, user }, i) => changed(await certs.uploadCertificate(deps.home, user, i.name, { certificate: i.certificate, intermediates: i.intermediates ?? [] })),
  }),
  defineAction({
    id: 'certificate-paste',
    method: 'POST',
    apiPath: '/certificates/paste',
    input: z.object({ name: name(), certificate: content(), privateKey: content(), intermediates: z.array(content()).optional() }),
    secretFields: ['certificate', 'privateKey', 'intermediates'],
    page: PAGE,
    run: async ({ deps, user }, i) => changed(await certs.pasteProfile(deps.home, user, { name: i.name, certificate: i.certificate, privateKey: i.privateKey, intermediates: i.intermediates ?? [] })),
  }),
  defineAction({
    id: 'certificate-import',
    method: 'POST',
    apiPath: '/certificates/import',
    input: z.object({ name: name(), pkcs12: binary(), passphrase: z.string().default('') }),
    secretFields: ['pkcs12', 'passphrase'],
    page: PAGE,
    run: async ({ deps, user }, i) => changed(await certs.importProfile(deps.home, user, { name: i.name, pkcs12: i.pkcs12, passphrase: i.passphrase })),
  }),
  defineAction({
    id: 'certificate-export',
    method: 'POST',
    apiPath: '/certificates/:name/export',
    input: z.object({ name: name(), passphrase: z.string({ error: 'is required' }).min(1, 'is required') }),
    secretFields: ['passphrase'],
    page: (i) => `/certificates/${encodeURIComponent(i['name'] ?? '')}`,
    run: async ({ deps, user }, i) => {
      const der = await certs.exportProfile(deps.home, user, i.name, i.passphrase);
      return {
        message: `Exported certificate profile ${i.name} as PKCS#12.`,
        data: { profile: i.name, pkcs12: der.toString('base64') },
        download: { filename: `${i.name}.p12`, contentType: 'application/x-pkcs12', body: der },
      };
    },
  }),
  defineAction({
    id: 'certificate-rekey',
    method: 'POST',
    apiPath: '/certificates/:name/rekey',
    input: z.object({ name: name(), key: z.enum(KEY_ALGORITHMS as [KeyAlgorithm, ...KeyAlgorithm[]]).optional(), days: optionalInt() }),
    page: (i) => `/certificates/${encodeURIComponent(i['name'] ?? '')}`,
    run: async ({ deps, user }, i) => changed(await certs.rekeyProfile(deps.home, user, i.name, { key: i.key, days: i.days })),
  }),
  defineAction({
    id: 'certificate-delete',
    method: 'DELETE',
    apiPath: '/certificates/:name',
    input: z.object({ name: name() }),
    page: PAGE,
    run: ({ deps, user }, i) => changed(certs.deleteProfile(deps.home, user, i.name)),
  }),
  defineAction({
    id: 'truststore-list',
    method: 'PUT',
    apiPath: '/truststore/:list',
    input: z.object({ list: z.enum(['system', 'custom']), enabled: bool() }),
    page: PAGE,
    run: ({ deps, user }, i) => changed(certs.setTrustList(deps.home, user, i.list, i.enabled)),
  }),
  defineAction({
    id: 'truststore-import',
    method: 'POST',
    apiPath: '/truststore/custom',
    input: z.object({ bundle: content() }),
    secretFields: ['bundle'],
    page: PAGE,
    run: ({ deps, user }, i) => {
      const r = certs.importCustomCas(deps.home, user, i.bundle);
      return { ...changed(r), data: { staged: true, message: r.message, added: r.added, warnings: r.warnings } };
    },
  }),
  defineAction({
    id: 'truststore-delete',
    method: 'DELETE',
    apiPath: '/truststore/custom/:name',
    input: z.object({ name: name() }),
    page: PAGE,
    run: ({ deps, user }, i) => changed(certs.deleteCustomCa(deps.home, user, i.name)),
  }),
];
