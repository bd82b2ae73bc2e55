// The `--policy <file>` of `tagguard verify` and `tagguard scan`: an ArtifactVerification manifest in YAML.
// Parsed once here, at the edge: every field the CLI may use is checked and narrowed to the API types;
// anything wrong is a PolicyError naming the field (exit code 2). Secrets are not resolved here.
import { open } from 'node:fs/promises';
import { BaseError } from '../errors.ts';
import { compileRe2 } from '../re2-pattern.ts';
import {
  decodeUtf8,
  defaultYamlLimits,
  isYamlError,
  parseYaml,
  type YamlErrorCode,
} from '../yaml/bounded-yaml.ts';
import {
  API_VERSION,
  KIND,
  type ArtifactSource,
  type ArtifactVerificationSpec,
  type CosignSigner,
  type FailOn,
  type NotationSigner,
  type ProvenanceSigner,
  type ScanException,
  type ScanSpec,
  type SourceReference,
  type VerifySpec,
} from '../api/artifact-verification.ts';

/** YAML codes (InvalidYaml, YamlTooManyAliases, …) name why a policy or values file was refused as YAML. */
export type PolicyErrorCode = 'Unreadable' | 'WrongKind' | 'InvalidField' | YamlErrorCode;

export class PolicyError extends BaseError<PolicyErrorCode> {
  /** Path of the offending field, e.g. "spec.verify.cosign[0].publicKey". */
  readonly field: string | undefined;

  constructor(code: PolicyErrorCode, message: string, field?: string, options?: { cause?: unknown }) {
    super(code, field === undefined ? message : `${field}: ${message}`, options);
    this.field = field;
  }
}

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const fail = (field: string, why: string): never => {
  throw new PolicyError('InvalidField', why, field);
};

const record = (value: unknown, field: string): Json =>
  isRecord(value) ? value : fail(field, 'must be a mapping');

const only = (value: Json, field: string, allowed: readonly string[]): void => {
  const unknown = Object.keys(value).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) fail(`${field}.${unknown[0]}`, `unknown field (allowed: ${allowed.join(', ')})`);
};

const optString = (value: Json, key: string, field: string): string | undefined => {
  const v = value[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'string' && v !== '' ? v : fail(`${field}.${key}`, 'must be a non-empty string');
};

const reqString = (value: Json, key: string, field: string): string =>
  optString(value, key, field) ?? fail(`${field}.${key}`, 'is required');

const optBoolean = (value: Json, key: string, field: string): boolean | undefined => {
  const v = value[key];
  if (v === undefined || v === null) return undefined;
  return typeof v === 'boolean' ? v : fail(`${field}.${key}`, 'must be true or false');
};

const optOneOf = <T extends string>(
  value: Json,
  key: string,
  field: string,
  allowed: readonly T[],
): T | undefined => {
  const v = optString(value, key, field);
  if (v === undefined) return undefined;
  return (allowed as readonly string[]).includes(v)
    ? (v as T)
    : fail(`${field}.${key}`, `must be one of ${allowed.join(', ')}`);
};

const optList = (value: Json, key: string, field: string): unknown[] | undefined => {
  const v = value[key];
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? (v as unknown[]) : fail(`${field}.${key}`, 'must be a list');
};

const localRef = (value: unknown, field: string): { name: string } => {
  const r = record(value, field);
  only(r, field, ['name']);
  return { name: reqString(r, 'name', field) };
};

const optLocalRef = (value: Json, key: string, field: string): { name: string } | undefined =>
  value[key] === undefined || value[key] === null ? undefined : localRef(value[key], `${field}.${key}`);

/** RE2 (cosign's and the operator's engine), not JavaScript's RegExp; the cause carries the Re2PatternError code. */
const checkRegex = (pattern: string, field: string): void => {
  try {
    compileRe2(pattern);
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause);
    throw new PolicyError('InvalidField', detail, field, { cause });
  }
};

const parseCosignSigner = (value: unknown, field: string): CosignSigner => {
  const s = record(value, field);
  only(s, field, ['name', 'publicKey', 'secretRef', 'keyless', 'trustedRoot', 'requireTransparencyLog']);
  const name = reqString(s, 'name', field);
  const publicKey = optString(s, 'publicKey', field);
  const secretRef = optLocalRef(s, 'secretRef', field);
  let keyless: CosignSigner['keyless'];
  if (s.keyless !== undefined && s.keyless !== null) {
    const k = record(s.keyless, `${field}.keyless`);
    only(k, `${field}.keyless`, ['issuer', 'subject', 'subjectRegex']);
    const issuer = reqString(k, 'issuer', `${field}.keyless`);
    const subject = optString(k, 'subject', `${field}.keyless`);
    const subjectRegex = optString(k, 'subjectRegex', `${field}.keyless`);
    if ((subject === undefined) === (subjectRegex === undefined))
      fail(`${field}.keyless`, 'needs exactly one of subject, subjectRegex');
    if (subjectRegex !== undefined) checkRegex(subjectRegex, `${field}.keyless.subjectRegex`);
    keyless = {
      issuer,
      ...(subject !== undefined ? { subject } : {}),
      ...(subjectRegex !== undefined ? { subjectRegex } : {}),
    };
  }
  const kinds = [publicKey, secretRef, keyless].filter((x) => x !== undefined).length;
  if (kinds !== 1) fail(field, 'needs exactly one of publicKey, secretRef, keyless');
  let trustedRoot: CosignSigner['trustedRoot'];
  if (s.trustedRoot !== undefined && s.trustedRoot !== null) {
    const t = record(s.trustedRoot, `${field}.trustedRoot`);
    only(t, `${field}.trustedRoot`, ['configMapRef']);
    trustedRoot = { configMapRef: localRef(t.configMapRef, `${field}.trustedRoot.configMapRef`) };
  }
  const requireTransparencyLog = optBoolean(s, 'requireTransparencyLog', field);
  return {
    name,
    ...(publicKey !== undefined ? { publicKey } : {}),
    ...(secretRef !== undefined ? { secretRef } : {}),
    ...(keyless !== undefined ? { keyless } : {}),
    ...(trustedRoot !== undefined ? { trustedRoot } : {}),
    ...(requireTransparencyLog !== undefined ? { requireTransparencyLog } : {}),
  };
};

const parseNotationSigner = (value: unknown, field: string): NotationSigner => {
  const s = record(value, field);
  only(s, field, ['name', 'trustStore', 'trustedIdentities', 'level', 'revocation']);
  const name = reqString(s, 'name', field);
  const t = record(s.trustStore, `${field}.trustStore`);
  only(t, `${field}.trustStore`, ['secretRef', 'pem']);
  const secretRef = optLocalRef(t, 'secretRef', `${field}.trustStore`);
  const pem = optString(t, 'pem', `${field}.trustStore`);
  if ((secretRef === undefined) === (pem === undefined))
    fail(`${field}.trustStore`, 'needs exactly one of secretRef, pem');
  const identities =
    optList(s, 'trustedIdentities', field) ?? fail(`${field}.trustedIdentities`, 'is required');
  if (identities.length === 0 || identities.some((i) => typeof i !== 'string' || i === ''))
    fail(`${field}.trustedIdentities`, 'must be a non-empty list of non-empty strings');
  const level = optOneOf(s, 'level', field, ['strict', 'permissive', 'audit'] as const);
  const revocation = optOneOf(s, 'revocation', field, ['enforce', 'log', 'skip'] as const);
  return {
    name,
    trustStore: { ...(secretRef !== undefined ? { secretRef } : {}), ...(pem !== undefined ? { pem } : {}) },
    trustedIdentities: identities as string[],
    ...(level !== undefined ? { level } : {}),
    ...(revocation !== undefined ? { revocation } : {}),
  };
};

/** A keyring from a Secret (the CLI maps its name to a file with --keyring NAME=FILE), or inline. */
const parseProvenanceSigner = (value: unknown, field: string): ProvenanceSigner => {
  const s = record(value, field);
  only(s, field, ['name', 'keyring', 'publicKey']);
  const name = reqString(s, 'name', field);
  const publicKey = optString(s, 'publicKey', field);
  let keyring: ProvenanceSigner['keyring'];
  if (s.keyring !== undefined && s.keyring !== null) {
    const k = record(s.keyring, `${field}.keyring`);
    only(k, `${field}.keyring`, ['secretRef']);
    if (k.secretRef === undefined || k.secretRef === null) fail(`${field}.keyring.secretRef`, 'is required');
    keyring = { secretRef: localRef(k.secretRef, `${field}.keyring.secretRef`) };
  }
  if ((keyring === undefined) === (publicKey === undefined))
    fail(field, 'needs exactly one of keyring, publicKey');
  if (publicKey !== undefined && !publicKey.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'))
    fail(`${field}.publicKey`, 'must be an ASCII-armored OpenPGP public key');
  return {
    name,
    ...(keyring !== undefined ? { keyring } : {}),
    ...(publicKey !== undefined ? { publicKey } : {}),
  };
};

const parseVerify = (value: unknown, field: string): VerifySpec => {
  const v = record(value, field);
  only(v, field, ['minSignatures', 'cosign', 'notation', 'provenance']);
  const cosign = (optList(v, 'cosign', field) ?? []).map((s, i) =>
    parseCosignSigner(s, `${field}.cosign[${i}]`),
  );
  const notation = (optList(v, 'notation', field) ?? []).map((s, i) =>
    parseNotationSigner(s, `${field}.notation[${i}]`),
  );
  const provenance = (optList(v, 'provenance', field) ?? []).map((s, i) =>
    parseProvenanceSigner(s, `${field}.provenance[${i}]`),
  );
  const names = [...cosign, ...notation, ...provenance].map((s) => s.name);
  const duplicate = names.find((n, i) => names.indexOf(n) !== i);
  if (duplicate !== undefined) fail(field, `signer name "${duplicate}" is used twice`);
  const min = v.minSignatures;
  if (min !== undefined && min !== null) {
    if (typeof min !== 'number' || !Number.isInteger(min) || min < 1)
      return fail(`${field}.minSignatures`, 'must be an integer ≥ 1');
    if (min > names.length)
      fail(`${field}.minSignatures`, `is ${min} but only ${names.length} signer entries are configured`);
  }
  return {
    ...(typeof min === 'number' ? { minSignatures: min } : {}),
    ...(cosign.length > 0 ? { cosign } : {}),
    ...(notation.length > 0 ? { notation } : {}),
    ...(provenance.length > 0 ? { provenance } : {}),
  };
};

const FAIL_ON: readonly FailOn[] = ['critical', 'high', 'medium', 'low', 'none'];

const parseScan = (value: unknown, field: string): ScanSpec => {
  const s = record(value, field);
  only(s, field, ['failOn', 'helm', 'sbom', 'wasm', 'allowUnknownArtifacts']);
  const allowUnknownArtifacts = optBoolean(s, 'allowUnknownArtifacts', field);
  const failOn = optOneOf(s, 'failOn', field, FAIL_ON);
  let helm: ScanSpec['helm'];
  if (s.helm !== undefined && s.helm !== null) {
    const f = `${field}.helm`;
    const h = record(s.helm, f);
    only(h, f, ['enabled', 'values', 'exceptions']);
    const enabled = optBoolean(h, 'enabled', f);
    const values = h.values === undefined || h.values === null ? undefined : record(h.values, `${f}.values`);
    const exceptions = (optList(h, 'exceptions', f) ?? []).map((e, i): ScanException => {
      const ef = `${f}.exceptions[${i}]`;
      const r = record(e, ef);
      only(r, ef, ['rule', 'resource']);
      const resource = optString(r, 'resource', ef);
      return { rule: reqString(r, 'rule', ef), ...(resource !== undefined ? { resource } : {}) };
    });
    helm = {
      ...(enabled !== undefined ? { enabled } : {}),
      ...(values !== undefined ? { values } : {}),
      ...(h.exceptions !== undefined ? { exceptions } : {}),
    };
  }
  let sbom: ScanSpec['sbom'];
  if (s.sbom !== undefined && s.sbom !== null) {
    const b = record(s.sbom, `${field}.sbom`);
    only(b, `${field}.sbom`, ['required']);
    const required = optBoolean(b, 'required', `${field}.sbom`);
    sbom = required !== undefined ? { required } : {};
  }
  let wasm: ScanSpec['wasm'];
  if (s.wasm !== undefined && s.wasm !== null) {
    const w = record(s.wasm, `${field}.wasm`);
    only(w, `${field}.wasm`, ['allowedImports']);
    const allowed = optList(w, 'allowedImports', `${field}.wasm`);
    if (allowed?.some((a) => typeof a !== 'string'))
      fail(`${field}.wasm.allowedImports`, 'must be a list of strings');
    wasm = allowed !== undefined ? { allowedImports: allowed as string[] } : {};
  }
  return {
    ...(failOn !== undefined ? { failOn } : {}),
    ...(helm !== undefined ? { helm } : {}),
    ...(sbom !== undefined ? { sbom } : {}),
    ...(wasm !== undefined ? { wasm } : {}),
    ...(allowUnknownArtifacts !== undefined ? { allowUnknownArtifacts } : {}),
  };
};

const parseSourceRef = (value: unknown, field: string): SourceReference => {
  const r = record(value, field);
  only(r, field, ['kind', 'name', 'namespace', 'sourceIndex']);
  const kind =
    optOneOf(r, 'kind', field, ['OCIRepository', 'HelmChart', 'HelmRelease', 'Application'] as const) ??
    fail(`${field}.kind`, 'is required');
  const namespace = optString(r, 'namespace', field);
  const index = r.sourceIndex;
  if (index !== undefined && (typeof index !== 'number' || !Number.isInteger(index) || index < 0))
    fail(`${field}.sourceIndex`, 'must be an integer ≥ 0');
  return {
    kind,
    name: reqString(r, 'name', field),
    ...(namespace !== undefined ? { namespace } : {}),
    ...(typeof index === 'number' ? { sourceIndex: index } : {}),
  };
};

const parseArtifact = (value: unknown, field: string): ArtifactSource => {
  const a = record(value, field);
  only(a, field, ['url', 'tag', 'semver', 'digest', 'secretRef', 'certSecretRef', 'insecure']);
  const url = reqString(a, 'url', field);
  if (!url.startsWith('oci://')) fail(`${field}.url`, 'must start with oci://');
  const optional = {
    tag: optString(a, 'tag', field),
    semver: optString(a, 'semver', field),
    digest: optString(a, 'digest', field),
    secretRef: optLocalRef(a, 'secretRef', field),
    certSecretRef: optLocalRef(a, 'certSecretRef', field),
    insecure: optBoolean(a, 'insecure', field),
  };
  const present = Object.fromEntries(Object.entries(optional).filter(([, v]) => v !== undefined));
  return { url, ...present };
};

/** Narrows a parsed manifest to the spec; exported for the operator-free unit tests and the scan command. */
export const parsePolicyDocument = (doc: unknown): ArtifactVerificationSpec => {
  if (!isRecord(doc)) throw new PolicyError('WrongKind', 'the policy file is not a YAML mapping');
  if (doc.apiVersion !== API_VERSION || doc.kind !== KIND) {
    throw new PolicyError(
      'WrongKind',
      `expected apiVersion ${API_VERSION} and kind ${KIND}, got ${String(doc.apiVersion)} ${String(doc.kind)}`,
      doc.apiVersion !== API_VERSION ? 'apiVersion' : 'kind',
    );
  }
  const spec = record(doc.spec ?? {}, 'spec');
  only(spec, 'spec', ['sourceRef', 'artifact', 'interval', 'verify', 'scan', 'action', 'resume', 'argocd']);
  const interval = optString(spec, 'interval', 'spec');
  const action = optOneOf(spec, 'action', 'spec', ['Suspend', 'Pin', 'Warn'] as const);
  const resume = optOneOf(spec, 'resume', 'spec', ['Automatic', 'Manual'] as const);
  let argocd: ArtifactVerificationSpec['argocd'];
  if (spec.argocd !== undefined && spec.argocd !== null) {
    const a = record(spec.argocd, 'spec.argocd');
    only(a, 'spec.argocd', ['suspendMethod']);
    const suspendMethod = optOneOf(a, 'suspendMethod', 'spec.argocd', [
      'DisableAutoSync',
      'SkipReconcile',
    ] as const);
    argocd = suspendMethod !== undefined ? { suspendMethod } : {};
  }
  const present = (key: string): boolean => spec[key] !== undefined && spec[key] !== null;
  return {
    ...(present('sourceRef') ? { sourceRef: parseSourceRef(spec.sourceRef, 'spec.sourceRef') } : {}),
    ...(present('artifact') ? { artifact: parseArtifact(spec.artifact, 'spec.artifact') } : {}),
    ...(interval !== undefined ? { interval } : {}),
    ...(present('verify') ? { verify: parseVerify(spec.verify, 'spec.verify') } : {}),
    ...(present('scan') ? { scan: parseScan(spec.scan, 'spec.scan') } : {}),
    ...(action !== undefined ? { action } : {}),
    ...(resume !== undefined ? { resume } : {}),
    ...(argocd !== undefined ? { argocd } : {}),
  };
};

/**
 * A file of at most the YAML size limit (one byte more is read, to tell): `--values /dev/zero` or a huge file
 * stops at the limit instead of filling memory. Unreadable → PolicyError Unreadable; too large → YamlTooLarge.
 */
export const readYamlFile = async (path: string, what: string): Promise<Buffer> => {
  const max = defaultYamlLimits.maxBytes;
  let bytes: Buffer;
  try {
    const file = await open(path, 'r');
    try {
      const buffer = Buffer.alloc(max + 1);
      let length = 0;
      for (;;) {
        const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
        length += bytesRead;
        if (bytesRead === 0 || length === buffer.length) break;
      }
      bytes = buffer.subarray(0, length);
    } finally {
      await file.close();
    }
  } catch (cause) {
    throw new PolicyError('Unreadable', `cannot read ${what} ${path}`, undefined, { cause });
  }
  if (bytes.length > max)
    throw new PolicyError('YamlTooLarge', `${what} ${path} is larger than ${max} bytes`);
  return bytes;
};

/**
 * A policy or values file through the bounded YAML reader: a YamlError becomes a PolicyError with the same code
 * (exit 2), naming the file.
 */
export const parsePolicyYaml = (bytes: Buffer, what: string): unknown => {
  try {
    return parseYaml(decodeUtf8(bytes));
  } catch (cause) {
    if (!isYamlError(cause)) throw cause;
    throw new PolicyError(cause.code, `${what} is refused as YAML: ${cause.message}`, undefined, { cause });
  }
};

/** Reads an ArtifactVerification manifest (YAML or JSON) and returns its spec, checked field by field. */
export const loadPolicyFile = async (path: string): Promise<ArtifactVerificationSpec> => {
  const bytes = await readYamlFile(path, 'policy file');
  return parsePolicyDocument(parsePolicyYaml(bytes, `policy file ${path}`));
};
