import { describe, expect, it } from 'vitest';
import { parseManifest } from '../../src/registry/manifest.ts';
import { parseRetryAfter } from '../../src/registry/transport.ts';

const D = `sha256:${'c'.repeat(64)}`;
const bytes = (doc: unknown): Buffer => Buffer.from(JSON.stringify(doc));
const descriptor = { mediaType: 'application/x', digest: D, size: 3 };

describe('parseManifest', () => {
  it('parses an image manifest with subject and artifactType', () => {
    const m = parseManifest(
      bytes({
        mediaType: 'application/vnd.oci.image.manifest.v1+json',
        artifactType: 'a/b',
        config: descriptor,
        layers: [descriptor],
        subject: descriptor,
      }),
      undefined,
      'x',
    );
    expect(m).toMatchObject({ kind: 'manifest', artifactType: 'a/b', subject: { digest: D } });
  });

  it('treats an index with null or missing manifests as empty', () => {
    expect(
      parseManifest(
        bytes({ mediaType: 'application/vnd.oci.image.index.v1+json', manifests: null }),
        undefined,
        'x',
      ),
    ).toMatchObject({
      kind: 'index',
      manifests: [],
    });
    expect(
      parseManifest(bytes({ schemaVersion: 2 }), 'application/vnd.oci.image.index.v1+json', 'x'),
    ).toMatchObject({ kind: 'index' });
  });

  it.each([
    ['not JSON', Buffer.from('{'), /not valid JSON/],
    [
      'a bad digest',
      bytes({ manifests: [{ ...descriptor, digest: 'sha256:xyz' }] }),
      /digest "sha256:xyz" is invalid/,
    ],
    ['a negative size', bytes({ manifests: [{ ...descriptor, size: -1 }] }), /size is invalid/],
    [
      'non-string annotations',
      bytes({ manifests: [{ ...descriptor, annotations: { a: 1 } }] }),
      /annotations must be a map of strings/,
    ],
    ['neither kind', bytes({ schemaVersion: 2 }), /neither a manifest nor an index/],
  ])('rejects %s', (_name, input, message) => {
    expect(() => parseManifest(input, undefined, 'where')).toThrow(message);
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('12', 0)).toBe(12_000);
    expect(parseRetryAfter(new Date(65_000).toUTCString(), 5_000)).toBe(60_000);
    expect(parseRetryAfter('soon', 0)).toBeUndefined();
    expect(parseRetryAfter(undefined, 0)).toBeUndefined();
  });
});
