/**
 * Verification result of a client certificate on a server-side TLSSocket made
 * for STARTTLS. Node sets `authorized`/`authorizationError` only for sockets
 * created by a tls.Server; for a socket wrapped by hand we ask the handle, as
 * Node's own `onServerSocketSecure` does (`_handle.verifyError()`), after the
 * 'secure' event. The chain is checked by OpenSSL against the context's `ca`.
 */
import type tls from 'node:tls';

interface VerifyingHandle {
  verifyError(): (Error & { code?: string }) | null;
}

export type ClientCertificateStatus = { presented: false } | { presented: true; valid: true; subject: string | null } | { presented: true; valid: false; reason: string };

export function clientCertificateStatus(socket: tls.TLSSocket): ClientCertificateStatus {
  const peer = socket.getPeerCertificate();
  if (peer === null || typeof peer !== 'object' || Object.keys(peer).length === 0) return { presented: false };
  const handle = (socket as unknown as { _handle?: VerifyingHandle | null })._handle;
  const error = handle?.verifyError?.() ?? null;
  if (error) return { presented: true, valid: false, reason: error.code ?? error.message };
  const cn = peer.subject?.CN;
  return { presented: true, valid: true, subject: typeof cn === 'string' ? cn : null };
}
