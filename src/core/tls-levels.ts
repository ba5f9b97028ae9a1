/** Inbound TLS setting of a mail flow policy. */
export type InboundTls = 'off' | 'preferred' | 'required';
export const INBOUND_TLS_LEVELS = ['off', 'preferred', 'required'] as const;

/** Outbound TLS level of a destination control (SPEC §5.2), in increasing strictness. */
export type OutboundTls =
  | 'no'
  | 'preferred'
  | 'required'
  | 'preferred-verify'
  | 'required-verify'
  | 'required-verify-hosted';
export const OUTBOUND_TLS_LEVELS = [
  'no',
  'preferred',
  'required',
  'preferred-verify',
  'required-verify',
  'required-verify-hosted',
] as const;

export type TlsVersion = 'TLSv1.2' | 'TLSv1.3';
export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
