// Argo CD's tag selection on the points the oracle test cannot reach (inputs beyond Masterminds v3.5.0's
// limits, which Argo's v3.4.0 does not have) and on the rules that differ from Flux's.
import { describe, expect, it } from 'vitest';
import {
  argoCdMaxVersion,
  isArgoCdConstraint,
  isArgoCdVersion,
  selectArgoCdTag,
} from '../../../src/sources/argocd/semver.ts';
import { selectTag } from '../../../src/sources/flux/semver.ts';

describe('selectArgoCdTag', () => {
  it('counts lax tags (1.5, v2) as candidates, where Flux needs three parts', () => {
    const tags = ['1.0.0', '1.5', 'v2', '2.0.0-rc.1'];
    expect(selectArgoCdTag(tags, '>=1.0.0', 'helm')).toEqual({ tag: 'v2' });
    expect(selectTag(tags, '>=1.0.0')).toBe('1.0.0');
  });

  it('reads Helm `_` tags as `+` metadata and deploys the tag as pushed', () => {
    expect(selectArgoCdTag(['1.4.0', '1.5.0_build.7'], '1.x', 'helm')).toEqual({ tag: '1.5.0_build.7' });
    expect(selectArgoCdTag(['1.4.0', '1.5.0_build.7'], '1.x', 'oci')).toMatchObject({ error: 'unpullable' });
  });

  it('keeps the first listed tag among equal versions', () => {
    expect(selectArgoCdTag(['v1.0.0', '1.0.0', '1.0'], '*', 'oci')).toEqual({ tag: 'v1.0.0' });
    expect(selectArgoCdTag(['1.0', 'v1.0.0', '1.0.0'], '*', 'oci')).toEqual({ tag: '1.0' });
  });

  it('fails on a listed tag Masterminds refuses as malformed, and skips one that is no version', () => {
    expect(selectArgoCdTag(['1.0.0', '1.0.0-01'], '*', 'helm')).toMatchObject({ error: 'invalid-tag' });
    expect(selectArgoCdTag(['1.0.0', 'latest', '1.0.0.0'], '*', 'helm')).toEqual({ tag: '1.0.0' });
  });

  it('takes a native OCI tag spelled like the constraint before selecting', () => {
    expect(selectArgoCdTag(['1.x', '1.9.0'], '1.x', 'oci')).toEqual({ tag: '1.x' });
    expect(selectArgoCdTag(['1.x', '1.9.0'], '1.x', 'helm')).toEqual({ tag: '1.9.0' });
  });

  it('pins a version without looking at the tags (Helm) and needs the tag to exist (native OCI)', () => {
    expect(selectArgoCdTag([], '1.2', 'helm')).toEqual({ tag: '1.2' });
    expect(selectArgoCdTag(['1.2.0'], '1.2', 'oci')).toMatchObject({ error: 'not-found' });
  });

  it('has no input limits (Masterminds v3.4.0)', () => {
    const longTag = `1.0.0-${'a'.repeat(300)}`;
    expect(argoCdMaxVersion('>=0.0.0-0', ['0.9.0', longTag])).toEqual({ tag: longTag });
    // ... though no registry holds such a tag: oras refuses a reference beyond 128 characters.
    expect(selectArgoCdTag(['0.9.0', longTag], '>=0.0.0-0', 'oci')).toMatchObject({ error: 'unpullable' });
    expect(isArgoCdVersion(longTag)).toBe(true);
    const manyAlternatives = `${'3.0.0 || '.repeat(40)}1.x`;
    expect(isArgoCdConstraint(manyAlternatives)).toBe(true);
    expect(argoCdMaxVersion(manyAlternatives, ['1.2.0', '2.0.0'])).toEqual({ tag: '1.2.0' });
    const longConstraint = `>=1.0.0 ${' '.repeat(600)}<2`;
    expect(argoCdMaxVersion(longConstraint, ['1.2.0', '2.0.0'])).toEqual({ tag: '1.2.0' });
  });
});
