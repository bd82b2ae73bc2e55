// Adapts Helm provenance verification (src/verify/provenance/) to the Verifier interface for one signer
// entry: the chart and `.prov` the caller read are in the material, the keyring in the trust.
import type { ProvenanceTrust, SignatureMaterial, SignerResult, VerificationTarget } from './types.ts';
import type { Verifier } from './verifier.ts';
import { judgeChartProvenance } from './provenance/judge-chart-provenance.ts';

export class ProvenanceSignerVerifier implements Verifier {
  readonly name: string;
  readonly type = 'provenance' as const;
  private readonly trust: ProvenanceTrust;

  constructor(trust: ProvenanceTrust) {
    this.name = trust.name;
    this.trust = trust;
  }

  verify(_target: VerificationTarget, material: SignatureMaterial, now: Date): Promise<SignerResult> {
    return judgeChartProvenance(material.chartProvenance, this.trust, now);
  }
}
