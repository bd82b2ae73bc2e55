// Fetching then judging one digest's signatures, with an in-memory SignatureFetcher (tagguard's own
// interface over the registry): what is fetched for which policy, the legacy `.sig` tag read only for
// cosign entries the referrers did not satisfy, and a registry failure turned into the Error verdict.
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSignatures } from '../../src/controller/signature-check.ts';
import { RegistryError } from '../../src/registry/errors.ts';
import type { SignatureFetcher } from '../../src/registry/signature-fetch.ts';
import {
  COSIGN_ANNOTATIONS,
  type LegacySignatureLayer,
  type ReferrerSignatures,
} from '../../src/registry/stored-signatures.ts';
import type { StoredChart } from '../../src/registry/stored-chart.ts';
import { readProvenanceKeyring } from '../../src/verify/provenance/provenance-keyring.ts';
import type { TrustPolicy } from '../../src/verify/types.ts';
import { legacy, target } from '../verify/cosign/cosign-signatures.ts';
import {
  ARCHIVE,
  clearSign,
  helmMessage,
  makeKey,
  sha256,
} from '../verify/provenance/provenance-fixtures.ts';

const bob = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const bobPem = bob.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const options = { now: () => new Date() };
const repository = { repository: target.repository, digest: target.digest };

const cosignPolicy: TrustPolicy = {
  minSignatures: 1,
  cosign: [{ name: 'bob', publicKeys: [bobPem], requireTransparencyLog: false }],
  notation: [],
};
const notationPolicy: TrustPolicy = {
  minSignatures: 1,
  cosign: [],
  notation: [
    { name: 'nora', caCertificates: [], tsaCertificates: [], trustedIdentities: ['*'], level: 'strict' },
  ],
};

/** Bob's legacy signature as the `.sig` manifest stores it. */
const bobLayer = (): LegacySignatureLayer => {
  const sig = legacy(bob.privateKey);
  return {
    bytes: sig.payload,
    manifestDigest: sig.signatureManifestDigest,
    annotations: { [COSIGN_ANNOTATIONS.signature]: sig.signature },
  };
};

interface Recorded extends SignatureFetcher {
  readonly calls: string[];
}

const fetcher = (
  stored: {
    referrers?: ReferrerSignatures | Error;
    legacy?: LegacySignatureLayer[] | Error;
    chart?: StoredChart | Error;
  } = {},
): Recorded => {
  const calls: string[] = [];
  const answer = <T>(value: T | Error): Promise<T> =>
    value instanceof Error ? Promise.reject(value) : Promise.resolve(value);
  return {
    calls,
    referrers: (want) => {
      calls.push(`referrers ${JSON.stringify(want)}`);
      return answer(stored.referrers ?? { bundles: [], notation: [] });
    },
    legacy: () => {
      calls.push('legacy');
      return answer(stored.legacy ?? []);
    },
    chart: () => {
      calls.push('chart');
      return answer(stored.chart ?? { kind: 'index', chartLayers: [], provenanceLayers: 0 });
    },
  };
};

describe('checkSignatures', () => {
  it('fetches nothing for a policy without signer entries', async () => {
    const source = fetcher();
    const result = await checkSignatures(
      source,
      repository,
      { minSignatures: 0, cosign: [], notation: [] },
      options,
    );
    expect(result.verdict).toBe('Trusted');
    expect(source.calls).toEqual([]);
  });

  it('reads the legacy .sig tag when the referrers hold no signature of a cosign entry', async () => {
    const source = fetcher({ legacy: [bobLayer()] });
    const result = await checkSignatures(source, repository, cosignPolicy, options);
    expect(result.verdict).toBe('Trusted');
    expect(result.signers[0]).toMatchObject({ name: 'bob', verified: true, format: 'legacy' });
    expect(source.calls).toEqual(['referrers {"target":false,"bundles":true,"notation":false}', 'legacy']);
  });

  it('judges a digest signed nowhere Untrusted, SignatureMissing, after looking in both places', async () => {
    const source = fetcher();
    const result = await checkSignatures(source, repository, cosignPolicy, options);
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['SignatureMissing'] });
    expect(source.calls).toHaveLength(2);
  });

  it('asks for the target manifest and notation referrers only, never the .sig tag, for a notation policy', async () => {
    const source = fetcher();
    const result = await checkSignatures(source, repository, notationPolicy, options);
    expect(result).toMatchObject({ verdict: 'Untrusted', reasons: ['SignatureMissing'] });
    expect(source.calls).toEqual(['referrers {"target":true,"bundles":false,"notation":true}']);
  });

  it.each([
    ['the referrer lookup', { referrers: new RegistryError('Unavailable', 'registry.test: HTTP 503') }],
    ['the legacy .sig tag', { legacy: new RegistryError('Unavailable', 'registry.test: HTTP 503') }],
  ])(
    'turns a registry failure in %s into the verdict Error, RegistryError for every signer',
    async (_where, stored) => {
      const result = await checkSignatures(fetcher(stored), repository, cosignPolicy, options);
      expect(result).toEqual({
        digest: target.digest,
        verdict: 'Error',
        reasons: ['RegistryError'],
        signers: [
          {
            name: 'bob',
            type: 'cosign',
            verified: false,
            reason: 'RegistryError',
            message: 'Unavailable: registry.test: HTTP 503',
          },
        ],
      });
    },
  );

  it('lets an error that is not the registry escape (the caller fails closed on it)', async () => {
    const bug = new TypeError('a bug');
    await expect(
      checkSignatures(fetcher({ referrers: bug }), repository, cosignPolicy, options),
    ).rejects.toBe(bug);
  });

  it('throws TrustPolicyError for unusable trust material before fetching anything', async () => {
    const source = fetcher();
    const broken: TrustPolicy = {
      ...cosignPolicy,
      cosign: [{ name: 'bad', publicKeys: ['not a key'], requireTransparencyLog: false }],
    };
    await expect(checkSignatures(source, repository, broken, options)).rejects.toMatchObject({
      name: 'TrustPolicyError',
      code: 'InvalidKey',
    });
    expect(source.calls).toEqual([]);
  });

  describe('with Helm provenance entries', () => {
    const chartAt = (repositoryTag: string) => ({
      repository: `registry.test/charts/payment`,
      tag: repositoryTag,
    });
    const signedChart = (prov: string): StoredChart => ({
      kind: 'manifest',
      configMediaType: 'application/vnd.cncf.helm.config.v1+json',
      config: Buffer.from('{"name":"payment","version":"0.1.0"}'),
      chartLayers: [
        {
          mediaType: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
          digest: sha256(ARCHIVE),
          size: 1,
        },
      ],
      provenanceLayers: 1,
      provenance: Buffer.from(prov),
    });

    it('reads the chart beside the referrers and counts a verified provenance toward minSignatures', async () => {
      const release = await makeKey('release');
      const prov = await clearSign(helmMessage(), [release]);
      const policy = (minSignatures: number): TrustPolicy => ({
        ...cosignPolicy,
        minSignatures,
        provenance: [{ name: 'helm', keyring: keyring }],
      });
      const keyring = await readProvenanceKeyring([release.armored]);
      const chart = signedChart(prov);
      const { repository: repo, tag } = chartAt('0.1.0');
      const at = { repository: repo, digest: target.digest };

      const both = fetcher({ chart, legacy: [bobLayer()] });
      const two = await checkSignatures(both, at, policy(2), { ...options, tag });
      expect(two.verdict).toBe('Trusted');
      expect(two.signers.map((s) => [s.name, s.type, s.verified])).toEqual([
        ['bob', 'cosign', true],
        ['helm', 'provenance', true],
      ]);
      expect(both.calls).toEqual([
        'referrers {"target":false,"bundles":true,"notation":false}',
        'chart',
        'legacy',
      ]);

      // Without the cosign signature only one of two entries verifies.
      const one = await checkSignatures(fetcher({ chart }), at, policy(2), { ...options, tag });
      expect(one).toMatchObject({ verdict: 'Untrusted' });
      expect(one.reasons).toEqual(expect.arrayContaining(['SignatureMissing', 'ThresholdNotMet']));

      // The same digest followed under another tag: the provenance is for 0.1.0, not 0.2.0.
      const moved = await checkSignatures(fetcher({ chart, legacy: [bobLayer()] }), at, policy(2), {
        ...options,
        tag: '0.2.0',
      });
      expect(moved.verdict).toBe('Untrusted');
      expect(moved.signers[1]).toMatchObject({ verified: false, reason: 'DigestMismatch' });
      expect(moved.signers[1]?.message).toMatch(/^ProvenanceChartMismatch:/);
    });

    it('reads only the chart, no referrers and no .sig tag, for a provenance-only policy', async () => {
      const release = await makeKey('release');
      const policy: TrustPolicy = {
        minSignatures: 1,
        cosign: [],
        notation: [],
        provenance: [{ name: 'helm', keyring: await readProvenanceKeyring([release.armored]) }],
      };
      const source = fetcher({ chart: signedChart(await clearSign(helmMessage(), [release])) });
      const result = await checkSignatures(
        source,
        { repository: 'registry.test/charts/payment', digest: target.digest },
        policy,
        { ...options, tag: '0.1.0' },
      );
      expect(result.verdict).toBe('Trusted');
      expect(source.calls).toEqual(['chart']);
    });

    it('judges a registry failure while reading the chart as Error for every entry', async () => {
      const release = await makeKey('release');
      const policy: TrustPolicy = {
        ...cosignPolicy,
        provenance: [{ name: 'helm', keyring: await readProvenanceKeyring([release.armored]) }],
      };
      const result = await checkSignatures(
        fetcher({ chart: new RegistryError('Unavailable', 'registry.test: HTTP 503') }),
        repository,
        policy,
        options,
      );
      expect(result).toMatchObject({ verdict: 'Error', reasons: ['RegistryError'] });
      expect(result.signers.map((s) => [s.name, s.reason])).toEqual([
        ['bob', 'RegistryError'],
        ['helm', 'RegistryError'],
      ]);
    });
  });
});
