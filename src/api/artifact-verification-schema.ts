// The shape of the ArtifactVerification CRD schema as the TypeScript types see it: every field path with
// its OpenAPI type, whether it is required and, for unions of string literals, its enum. The table is
// type-checked against the interfaces (a renamed, added or retyped field fails tsc), and
// test/api/crd-types.test.ts compares it with crds/tagguard.dev_artifactverifications.yaml, so the
// hand-written CRD and the types cannot drift apart. Validation rules beyond this shape live in the CRD only.
import type { ArtifactVerification } from './artifact-verification.ts';

/** OpenAPI type of a field: strings, integers (every number of the API is one) and booleans, objects, arrays. */
export type SchemaType = 'string' | 'integer' | 'boolean' | 'object' | 'array';

export interface FieldShape {
  readonly type: SchemaType;
  readonly required: boolean;
  /** The allowed values of a string-literal union, as a set (an object with every value as a key). */
  readonly enum?: Readonly<Record<string, true>>;
  /** A free-form object (x-kubernetes-preserve-unknown-fields). */
  readonly freeForm?: true;
}

type Leaf<V, R extends boolean> = string extends V
  ? { readonly type: 'string'; readonly required: R }
  : [V] extends [string]
    ? { readonly type: 'string'; readonly required: R; readonly enum: { readonly [K in V]: true } }
    : [V] extends [number]
      ? { readonly type: 'integer'; readonly required: R }
      : [V] extends [boolean]
        ? { readonly type: 'boolean'; readonly required: R }
        : never;

type IsOptional<T, K extends keyof T> = object extends Pick<T, K> ? true : false;

/** [path, shape] pairs of one value at `P`: itself, then what is nested in it. */
type ValueEntries<V, P extends string, R extends boolean> = [V] extends [readonly (infer I)[]]
  ? [P, { readonly type: 'array'; readonly required: R }] | ItemEntries<I, `${P}[]`>
  : [V] extends [string | number | boolean]
    ? [P, Leaf<V, R>]
    : string extends keyof V
      ? [P, { readonly type: 'object'; readonly required: R; readonly freeForm: true }]
      : [P, { readonly type: 'object'; readonly required: R }] | ObjectEntries<V, `${P}.`>;

/** Array items: a scalar item is a path of its own (`x[]`); an object item contributes its fields (`x[].name`). */
type ItemEntries<I, P extends string> = [I] extends [string | number | boolean]
  ? [P, Leaf<I, true>]
  : ObjectEntries<I, `${P}.`>;

type ObjectEntries<T, P extends string> = {
  [K in keyof T & string]-?: ValueEntries<
    NonNullable<T[K]>,
    `${P}${K}`,
    IsOptional<T, K> extends true ? false : true
  >;
}[keyof T & string];

/** Every field path of an object type (`a.b`, `list[].c`, `scalars[]`) with its shape. */
export type FieldTable<T> = {
  readonly [
    E in ObjectEntries<T, ''> as E extends readonly [infer P extends string, unknown] ? P : never
  ]: E extends readonly [string, infer S] ? S : never;
};

/** Every field path of the CR's spec and status with its shape, derived from the TypeScript types. */
export type ArtifactVerificationFieldTable = FieldTable<Pick<ArtifactVerification, 'spec' | 'status'>>;

const ref = { type: 'object', required: false } as const;
const refName = { type: 'string', required: true } as const;
const str = { type: 'string', required: false } as const;
const reqStr = { type: 'string', required: true } as const;
const int = { type: 'integer', required: false } as const;
const bool = { type: 'boolean', required: false } as const;
const obj = { type: 'object', required: false } as const;
const list = { type: 'array', required: false } as const;

export const ARTIFACT_VERIFICATION_FIELDS = {
  spec: { type: 'object', required: true },
  'spec.sourceRef': obj,
  'spec.sourceRef.kind': {
    type: 'string',
    required: true,
    enum: {
      OCIRepository: true,
      HelmChart: true,
      HelmRelease: true,
      Application: true,
      HelmRepository: true,
    },
  },
  'spec.sourceRef.name': reqStr,
  'spec.sourceRef.namespace': str,
  'spec.sourceRef.sourceIndex': int,
  'spec.artifact': obj,
  'spec.artifact.url': reqStr,
  'spec.artifact.tag': str,
  'spec.artifact.semver': str,
  'spec.artifact.digest': str,
  'spec.artifact.secretRef': ref,
  'spec.artifact.secretRef.name': refName,
  'spec.artifact.certSecretRef': ref,
  'spec.artifact.certSecretRef.name': refName,
  'spec.artifact.insecure': bool,
  'spec.interval': str,
  'spec.verify': obj,
  'spec.verify.minSignatures': int,
  'spec.verify.cosign': list,
  'spec.verify.cosign[].name': reqStr,
  'spec.verify.cosign[].publicKey': str,
  'spec.verify.cosign[].secretRef': ref,
  'spec.verify.cosign[].secretRef.name': refName,
  'spec.verify.cosign[].keyless': obj,
  'spec.verify.cosign[].keyless.issuer': reqStr,
  'spec.verify.cosign[].keyless.subject': str,
  'spec.verify.cosign[].keyless.subjectRegex': str,
  'spec.verify.cosign[].trustedRoot': obj,
  'spec.verify.cosign[].trustedRoot.configMapRef': { type: 'object', required: true },
  'spec.verify.cosign[].trustedRoot.configMapRef.name': refName,
  'spec.verify.cosign[].requireTransparencyLog': bool,
  'spec.verify.notation': list,
  'spec.verify.notation[].name': reqStr,
  'spec.verify.notation[].trustStore': { type: 'object', required: true },
  'spec.verify.notation[].trustStore.secretRef': ref,
  'spec.verify.notation[].trustStore.secretRef.name': refName,
  'spec.verify.notation[].trustStore.pem': str,
  'spec.verify.notation[].trustedIdentities': { type: 'array', required: true },
  'spec.verify.notation[].trustedIdentities[]': reqStr,
  'spec.verify.notation[].level': {
    type: 'string',
    required: false,
    enum: { strict: true, permissive: true, audit: true },
  },
  'spec.verify.provenance': list,
  'spec.verify.provenance[].name': reqStr,
  'spec.verify.provenance[].keyring': obj,
  'spec.verify.provenance[].keyring.secretRef': { type: 'object', required: true },
  'spec.verify.provenance[].keyring.secretRef.name': refName,
  'spec.verify.provenance[].publicKey': str,
  'spec.verify.notation[].revocation': {
    type: 'string',
    required: false,
    enum: { enforce: true, log: true, skip: true },
  },
  'spec.scan': obj,
  'spec.scan.failOn': {
    type: 'string',
    required: false,
    enum: { critical: true, high: true, medium: true, low: true, none: true },
  },
  'spec.scan.helm': obj,
  'spec.scan.helm.enabled': bool,
  'spec.scan.helm.values': { type: 'object', required: false, freeForm: true },
  'spec.scan.helm.exceptions': list,
  'spec.scan.helm.exceptions[].rule': reqStr,
  'spec.scan.helm.exceptions[].resource': str,
  'spec.scan.sbom': obj,
  'spec.scan.sbom.required': bool,
  'spec.scan.wasm': obj,
  'spec.scan.wasm.allowedImports': list,
  'spec.scan.wasm.allowedImports[]': reqStr,
  'spec.scan.allowUnknownArtifacts': bool,
  'spec.action': { type: 'string', required: false, enum: { Suspend: true, Pin: true, Warn: true } },
  'spec.resume': { type: 'string', required: false, enum: { Automatic: true, Manual: true } },
  'spec.argocd': obj,
  'spec.argocd.suspendMethod': {
    type: 'string',
    required: false,
    enum: { DisableAutoSync: true, SkipReconcile: true },
  },

  status: obj,
  'status.observedGeneration': int,
  'status.conditions': list,
  'status.conditions[].type': reqStr,
  'status.conditions[].status': {
    type: 'string',
    required: true,
    enum: { True: true, False: true, Unknown: true },
  },
  'status.conditions[].reason': reqStr,
  'status.conditions[].message': reqStr,
  'status.conditions[].observedGeneration': int,
  'status.conditions[].lastTransitionTime': reqStr,
  'status.source': str,
  'status.artifact': obj,
  'status.artifact.url': reqStr,
  'status.artifact.tag': str,
  'status.artifact.digest': reqStr,
  'status.artifact.shortDigest': str,
  'status.artifact.mediaType': str,
  'status.artifact.resolvedAt': reqStr,
  'status.trustedDigest': str,
  'status.verifiedAt': str,
  'status.signers': list,
  'status.signers[].name': reqStr,
  'status.signers[].type': {
    type: 'string',
    required: true,
    enum: { cosign: true, notation: true, provenance: true },
  },
  'status.signers[].format': {
    type: 'string',
    required: true,
    enum: { legacy: true, bundle: true, 'notation-jws': true, 'notation-cose': true, provenance: true },
  },
  'status.signers[].identity': str,
  'status.signers[].verifiedAt': reqStr,
  'status.findings': list,
  'status.findings[].rule': reqStr,
  'status.findings[].severity': {
    type: 'string',
    required: true,
    enum: { critical: true, high: true, medium: true, low: true },
  },
  'status.findings[].resource': reqStr,
  'status.findings[].path': reqStr,
  'status.findings[].message': reqStr,
  'status.findingsCount': int,
  'status.heldTargets': list,
  'status.heldTargets[].apiVersion': reqStr,
  'status.heldTargets[].kind': reqStr,
  'status.heldTargets[].namespace': reqStr,
  'status.heldTargets[].name': reqStr,
  'status.heldTargets[].method': reqStr,
  'status.heldTargets[].since': reqStr,
  'status.history': list,
  'status.history[].digest': reqStr,
  'status.history[].tag': str,
  'status.history[].firstSeen': reqStr,
  'status.history[].verdict': {
    type: 'string',
    required: true,
    enum: { Trusted: true, Untrusted: true, Error: true },
  },
  'status.history[].reason': str,
  'status.lastFailure': obj,
  'status.lastFailure.digest': str,
  'status.lastFailure.reason': reqStr,
  'status.lastFailure.message': reqStr,
  'status.lastFailure.time': reqStr,
  'status.charts': list,
  'status.charts[].consumer': reqStr,
  'status.charts[].chart': str,
  'status.charts[].version': str,
  'status.charts[].digest': str,
  'status.charts[].verdict': {
    type: 'string',
    required: true,
    enum: { Trusted: true, Untrusted: true, Error: true, Pending: true },
  },
  'status.charts[].reason': str,
  'status.charts[].child': reqStr,
  'status.chartCounts': obj,
  'status.chartCounts.total': { type: 'integer', required: true },
  'status.chartCounts.trusted': { type: 'integer', required: true },
  'status.chartCounts.untrusted': { type: 'integer', required: true },
  'status.chartCounts.error': { type: 'integer', required: true },
  'status.chartCounts.pending': { type: 'integer', required: true },
  'status.chartsSummary': str,
} as const satisfies ArtifactVerificationFieldTable;
