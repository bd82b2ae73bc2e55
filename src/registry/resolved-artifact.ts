// An artifact resolved to one digest, with the registry client that reaches it. The reconciler builds it
// once per artifact and reconcile and hands it down to the checks: none looks the client up again, and the
// digest travels inside the reference only.
import type { RegistryClient } from './client.ts';
import type { DigestReference } from './reference.ts';

export interface ResolvedArtifact {
  readonly client: RegistryClient;
  readonly reference: DigestReference;
}
