// The hand-written CRD and the TypeScript API types agree: the field table (type-checked against the
// interfaces in src/api/artifact-verification-schema.ts) equals the field paths, types, required lists and
// enums read from crds/tagguard.dev_artifactverifications.yaml. Behaviour of the rules is tested against a
// real API server in test/integration/crd/.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from '../../src/api/artifact-verification.ts';
import {
  ARTIFACT_VERIFICATION_FIELDS,
  type FieldShape,
  type FieldTable,
  type SchemaType,
} from '../../src/api/artifact-verification-schema.ts';
import { ConditionType, Reason } from '../../src/api/conditions.ts';
import { EVENT_TYPE, EventReason } from '../../src/api/event-reasons.ts';
import type { VerifyReason } from '../../src/verify/types.ts';

interface Schema {
  type?: SchemaType;
  required?: string[];
  enum?: string[];
  pattern?: string;
  default?: unknown;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

interface Crd {
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string; shortNames: string[]; categories?: string[] };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

const crdFile = join(import.meta.dirname, '..', '..', 'crds', 'tagguard.dev_artifactverifications.yaml');
const crd = load(readFileSync(crdFile, 'utf8')) as Crd;
const version = crd.spec.versions[0];
if (!version) throw new Error('the CRD has no version');
const root = version.schema.openAPIV3Schema;

/** The same table as the TypeScript side, read from an OpenAPI schema. */
const fieldsOf = (schema: Schema, prefix: string, table: Record<string, FieldShape> = {}) => {
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const path = `${prefix}${key}`;
    if (!child.type) throw new Error(`${path} has no type`);
    const required = schema.required?.includes(key) ?? false;
    table[path] = {
      type: child.type,
      required,
      ...(child.enum ? { enum: Object.fromEntries(child.enum.map((v) => [v, true] as const)) } : {}),
      ...(child['x-kubernetes-preserve-unknown-fields'] ? { freeForm: true as const } : {}),
    };
    collectNested(child, path, table);
  }
  return table;
};

const collectNested = (schema: Schema, path: string, table: Record<string, FieldShape>): void => {
  if (schema.type === 'object' && !schema['x-kubernetes-preserve-unknown-fields']) {
    fieldsOf(schema, `${path}.`, table);
  }
  if (schema.type === 'array' && schema.items) {
    const item = schema.items;
    if (item.type === 'object') fieldsOf(item, `${path}[].`, table);
    else table[`${path}[]`] = { type: item.type ?? 'object', required: true };
  }
};

const { apiVersion: _a, kind: _k, metadata: _m, ...crdProperties } = root.properties ?? {};
const crdFields = fieldsOf({ ...root, properties: crdProperties }, '');

const schemaAt = (path: string): Schema => {
  let schema: Schema | undefined = root;
  for (const part of path.split('.')) {
    schema = part.endsWith('[]')
      ? schema?.properties?.[part.slice(0, -2)]?.items
      : schema?.properties?.[part];
  }
  if (!schema) throw new Error(`no schema at ${path}`);
  return schema;
};

describe('the ArtifactVerification CRD and the TypeScript types', () => {
  it('have the same field paths', () => {
    expect(Object.keys(crdFields).sort()).toEqual(Object.keys(ARTIFACT_VERIFICATION_FIELDS).sort());
  });

  it('agree on every field type, required flag and enum', () => {
    expect(crdFields).toEqual(ARTIFACT_VERIFICATION_FIELDS);
  });

  it('name the group, version, kind and plural the code uses', () => {
    expect(crd.spec.group).toBe(GROUP);
    expect(crd.spec.names.kind).toBe(KIND);
    expect(crd.spec.names.plural).toBe(PLURAL);
    expect(crd.metadata.name).toBe(`${PLURAL}.${GROUP}`);
    expect(`${crd.spec.group}/${version.name}`).toBe(API_VERSION);
    expect(version.name).toBe(VERSION);
    expect(crd.spec.scope).toBe('Namespaced');
    expect(crd.spec.names.shortNames).toEqual(['av']);
    expect(version.subresources?.status).toEqual({});
  });

  it('declares the defaults of docs/design.md, each one a value its field allows', () => {
    const defaults = {
      'spec.interval': '1m',
      'spec.action': 'Pin',
      'spec.resume': 'Automatic',
      'spec.argocd.suspendMethod': 'DisableAutoSync',
      'spec.scan.failOn': 'high',
      'spec.verify.minSignatures': 1,
      'spec.verify.notation[].level': 'strict',
    };
    for (const [path, value] of Object.entries(defaults)) {
      const schema = schemaAt(path);
      expect(schema.default, path).toEqual(value);
      if (schema.enum) expect(schema.enum, path).toContain(value);
    }
  });

  it('shows Source, Tag, Digest, Verified, Held, Ready and Age by default, each from a field of the types', () => {
    const columns = version.additionalPrinterColumns;
    expect(columns.filter((c) => !c.priority).map((c) => c.name)).toEqual([
      'Source',
      'Tag',
      'Digest',
      'Verified',
      'Held',
      'Ready',
      'Age',
    ]);
    const fields: Record<string, FieldShape> = ARTIFACT_VERIFICATION_FIELDS;
    for (const column of columns) {
      const condition = /^\.status\.conditions\[\?\(@\.type=="(\w+)"\)\]\.(status|message)$/.exec(
        column.jsonPath,
      );
      if (condition?.[1]) {
        expect(Object.values(ConditionType), column.name).toContain(condition[1]);
      } else if (column.jsonPath !== '.metadata.creationTimestamp') {
        expect(fields[column.jsonPath.slice(1)], column.name).toBeDefined();
      }
    }
  });
});

describe('condition and event reasons', () => {
  it('are PascalCase and pass the CRD patterns of condition types and reasons', () => {
    const typePattern = new RegExp(schemaAt('status.conditions[].type').pattern ?? '');
    const reasonPattern = new RegExp(schemaAt('status.conditions[].reason').pattern ?? '');
    for (const value of Object.values(ConditionType)) expect(value).toMatch(typePattern);
    for (const value of [...Object.values(Reason), ...Object.values(EventReason)]) {
      expect(value).toMatch(/^[A-Z][A-Za-z0-9]*$/);
      expect(value).toMatch(reasonPattern);
    }
  });

  it('use each name as its value', () => {
    for (const table of [ConditionType, Reason, EventReason]) {
      for (const [name, value] of Object.entries(table)) expect(value).toBe(name);
    }
  });

  it('give Warning to the events docs/design.md marks as warnings', () => {
    const warnings = Object.entries(EVENT_TYPE)
      .filter(([, type]) => type === 'Warning')
      .map(([reason]) => reason)
      .sort();
    expect(warnings).toEqual([
      'ChartUntrusted',
      'Held',
      'HoldReverted',
      'PinUnavailable',
      'RegistryError',
      'ScanFailed',
      'TagMutated',
      'VerificationFailed',
    ]);
  });

  it('include every verification failure reason, so Verified=False can carry it as is', () => {
    const verifyReasons: Record<VerifyReason, true> = {
      SignatureMissing: true,
      SignatureInvalid: true,
      UntrustedSigner: true,
      ThresholdNotMet: true,
      DigestMismatch: true,
      CertificateExpired: true,
      RegistryError: true,
    };
    // Type-level too: a VerifyReason that is not a Reason fails tsc here.
    const asReason = (reason: VerifyReason): Reason => reason;
    for (const reason of Object.keys(verifyReasons) as VerifyReason[]) {
      expect(Object.values(Reason)).toContain(asReason(reason));
    }
  });
});

// Compile-time checks of the field table type itself: each line below must be a type error
// (`npm run typecheck` fails on an unused @ts-expect-error).
interface Sample {
  readonly name: string;
  readonly mode?: 'a' | 'b';
  readonly items?: readonly { readonly id: number }[];
}
const sampleTable: FieldTable<Sample> = {
  name: { type: 'string', required: true },
  mode: { type: 'string', required: false, enum: { a: true, b: true } },
  items: { type: 'array', required: false },
  'items[].id': { type: 'integer', required: true },
};
const renamed: FieldTable<Sample> = {
  ...sampleTable,
  // @ts-expect-error a renamed (unknown) field
  title: { type: 'string', required: true },
};
const missingEnum: FieldTable<Sample> = {
  ...sampleTable,
  // @ts-expect-error an enum value missing
  mode: { type: 'string', required: false, enum: { a: true } },
};
const optional: FieldTable<Sample> = {
  ...sampleTable,
  // @ts-expect-error a required field marked optional
  name: { type: 'string', required: false },
};
const { 'items[].id': _id, ...withoutNested } = sampleTable;
// @ts-expect-error a nested field missing
const missingNested: FieldTable<Sample> = withoutNested;

describe('the field table type', () => {
  it('accepts the exact table of a type', () => {
    expect([renamed, missingEnum, optional, missingNested].every((t) => 'name' in t)).toBe(true);
  });
});
