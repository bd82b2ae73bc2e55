// An OCI Helm chart manifest's facts → the chart to judge its provenance against, and one provenance
// entry judged through judgeChartProvenance (the seam HTTP repositories will use too). Provenance files
// are signed at run time with openpgp.js (provenance-fixtures.ts).
import { beforeAll, describe, expect, it } from 'vitest';
import type { StoredChart } from '../../../src/registry/stored-chart.ts';
import { MAX_STORED_PROVENANCE_BYTES } from '../../../src/registry/stored-chart.ts';
import { MAX_PROVENANCE_BYTES } from '../../../src/verify/provenance/parse-provenance.ts';
import { ociChartProvenance, tagVersion } from '../../../src/verify/provenance/oci-chart.ts';
import { judgeChartProvenance } from '../../../src/verify/provenance/judge-chart-provenance.ts';
import { readProvenanceKeyring } from '../../../src/verify/provenance/provenance-keyring.ts';
import type { ProvenanceTrust } from '../../../src/verify/types.ts';
import { ARCHIVE, clearSign, helmMessage, makeKey, sha256, type TestKey } from './provenance-fixtures.ts';

const CHART_LAYER = 'application/vnd.cncf.helm.chart.content.v1.tar+gzip';
const config = (name = 'payment', version = '0.1.0'): Buffer =>
  Buffer.from(JSON.stringify({ apiVersion: 'v2', name, version }));
const layer = (digest = sha256(ARCHIVE)) => ({ mediaType: CHART_LAYER, digest, size: ARCHIVE.length });

/** A helm-pushed chart's facts, with fields replaced (`undefined`: the field is absent). */
const stored = (over: { [K in keyof StoredChart]?: StoredChart[K] | undefined } = {}): StoredChart =>
  Object.fromEntries(
    Object.entries({
      kind: 'manifest',
      configMediaType: 'application/vnd.cncf.helm.config.v1+json',
      config: config(),
      chartLayers: [layer()],
      provenanceLayers: 0,
      ...over,
    }).filter(([, v]) => v !== undefined),
  ) as unknown as StoredChart;

let release: TestKey;
let stranger: TestKey;
let trust: ProvenanceTrust;
let good: Buffer;

beforeAll(async () => {
  [release, stranger] = await Promise.all([makeKey('release'), makeKey('stranger')]);
  trust = { name: 'release', keyring: await readProvenanceKeyring([release.armored]) };
  good = Buffer.from(await clearSign(helmMessage(), [release]));
});

const withProv = (prov: Buffer, over: Partial<StoredChart> = {}): StoredChart =>
  stored({ provenanceLayers: 1, provenance: prov, ...over });

describe('ociChartProvenance', () => {
  it('the archive is the chart layer, the chart the repository name at the tag (`_` is helm`s `+`)', () => {
    expect(ociChartProvenance(withProv(good), 'charts/payment', '0.1.0')).toMatchObject({
      kind: 'chart',
      archiveDigest: sha256(ARCHIVE),
      expected: { name: 'payment', version: '0.1.0' },
    });
    const plus = ociChartProvenance(
      stored({ config: config('payment', '1.0.0+b.2') }),
      'x/payment',
      '1.0.0_b.2',
    );
    expect(plus).toMatchObject({ kind: 'chart', expected: { version: '1.0.0+b.2' } });
  });

  it('takes the config version when the digest is followed without a tag, or under a tag that is no version', () => {
    expect(ociChartProvenance(stored(), 'charts/payment')).toMatchObject({ expected: { version: '0.1.0' } });
    for (const tag of ['latest', 'stable', '1.0', 'v0.1.0', '01.2.3'])
      expect(ociChartProvenance(stored(), 'charts/payment', tag)).toMatchObject({
        kind: 'chart',
        expected: { version: '0.1.0' },
      });
  });

  it('reads a version tag as helm does (strict SemVer, `_` for `+`)', () => {
    expect(tagVersion('1.2.3-rc.1_build.7')).toBe('1.2.3-rc.1+build.7');
    expect(tagVersion('0.1.0')).toBe('0.1.0');
    for (const tag of ['latest', '1.2', 'v1.2.3', '1.2.3-01', '1.2.3+a+b'])
      expect(tagVersion(tag)).toBeUndefined();
  });

  it.each([
    ['an index', { kind: 'index' as const, chartLayers: [] }, 'SignatureMissing'],
    [
      'another config type',
      { configMediaType: 'application/vnd.oci.image.config.v1+json', config: undefined },
      'SignatureMissing',
    ],
    ['no chart layer', { chartLayers: [] }, 'ProvenanceMalformed'],
    [
      'two chart layers (helm keeps whichever its copy lists last)',
      { chartLayers: [layer(), layer(sha256(new Uint8Array(1)))] },
      'ProvenanceMalformed',
    ],
    ['two provenance layers', { provenanceLayers: 2 }, 'ProvenanceMalformed'],
    ['a config that is not JSON', { config: Buffer.from('{') }, 'ProvenanceMalformed'],
    [
      'a config spelling Version beside version',
      { config: Buffer.from('{"name":"payment","version":"0.1.0","Version":"9"}') },
      'ProvenanceMalformed',
    ],
    ['a config too large to read', { config: undefined, configTooLarge: 1e6 }, 'ProvenanceMalformed'],
    ['a config naming another chart', { config: config('other') }, 'ProvenanceChartMismatch'],
    [
      'a config naming another version than the tag',
      { config: config('payment', '0.2.0') },
      'ProvenanceChartMismatch',
    ],
  ])('refuses %s', (_what, over, reason) => {
    expect(ociChartProvenance(stored(over), 'charts/payment', '0.1.0')).toMatchObject({
      kind: 'refused',
      reason,
    });
  });
});

describe('judgeChartProvenance', () => {
  const judge = (chart: StoredChart, tag = '0.1.0') =>
    judgeChartProvenance(ociChartProvenance(chart, 'charts/payment', tag), trust, new Date());

  it('verifies the provenance of the chart layer, signed by a key of the keyring', async () => {
    const result = await judge(withProv(good));
    expect(result).toMatchObject({
      name: 'release',
      type: 'provenance',
      format: 'provenance',
      verified: true,
    });
    expect(result.identity).toBe(release.publicKey.getFingerprint().toUpperCase());
    expect(result.reason).toBeUndefined();
  });

  it.each([
    ['no .prov', () => stored(), 'SignatureMissing', /has no provenance/],
    ['not a chart', () => stored({ kind: 'index', chartLayers: [] }), 'SignatureMissing', /index/],
    [
      'a .prov too large to read',
      () => stored({ provenanceLayers: 1, provenanceTooLarge: 70_000 }),
      'SignatureInvalid',
      /^ProvenanceTooLarge:/,
    ],
    [
      'a chart layer that is not the signed archive',
      () => withProv(good, { chartLayers: [layer(sha256(new Uint8Array(3)))] }),
      'DigestMismatch',
      /^ProvenanceDigestMismatch:/,
    ],
    [
      'two provenance layers',
      () => withProv(good, { provenanceLayers: 2 }),
      'SignatureInvalid',
      /^ProvenanceMalformed:/,
    ],
  ])('%s → %s', async (_what, make, reason, message) => {
    const result = await judge(make());
    expect(result).toMatchObject({ verified: false, reason });
    expect(result.message).toMatch(message);
  });

  it('refuses a .prov signed for another version re-pushed under this tag', async () => {
    const other = Buffer.from(await clearSign(helmMessage({ version: '0.2.0' }), [release]));
    const result = await judge(withProv(other, { config: config('payment', '0.1.0') }));
    expect(result).toMatchObject({ verified: false, reason: 'DigestMismatch' });
    expect(result.message).toMatch(/^ProvenanceChartMismatch:/);
  });

  it('refuses a .prov signed by a key outside the keyring as an untrusted signer', async () => {
    const result = await judge(withProv(Buffer.from(await clearSign(helmMessage(), [stranger]))));
    expect(result).toMatchObject({ verified: false, reason: 'UntrustedSigner' });
    expect(result.message).toMatch(/^ProvenanceUnknownSigner:/);
  });

  it('never verifies when nothing was read for the artifact', async () => {
    expect(await judgeChartProvenance(undefined, trust, new Date())).toMatchObject({
      verified: false,
      reason: 'SignatureMissing',
    });
  });

  it('the registry reads a .prov layer up to the parser`s own cap, no further', () => {
    expect(MAX_STORED_PROVENANCE_BYTES).toBe(MAX_PROVENANCE_BYTES);
  });
});
