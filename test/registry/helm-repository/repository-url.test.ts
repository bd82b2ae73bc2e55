// helm's ResolveReferenceURL and provenance URL rule. The expected URLs are what helm v3.19.5's function
// (net/url, Go 1.26) returned for the same inputs; a case where Go's and WHATWG's parsers could part ways
// is refused instead.
import { describe, expect, it } from 'vitest';
import {
  indexUrl,
  parseRepositoryUrl,
  provenanceUrl,
  resolveReferenceUrl,
} from '../../../src/registry/helm-repository/repository-url.ts';
import { isHelmRepositoryError } from '../../../src/registry/helm-repository/errors.ts';

describe('resolveReferenceUrl (helm ResolveReferenceURL)', () => {
  it.each([
    ['https://charts.example.com', 'payment-1.0.0.tgz', 'https://charts.example.com/payment-1.0.0.tgz'],
    ['https://charts.example.com/', 'payment-1.0.0.tgz', 'https://charts.example.com/payment-1.0.0.tgz'],
    [
      'https://charts.example.com/sub',
      'payment-1.0.0.tgz',
      'https://charts.example.com/sub/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/sub/',
      'payment-1.0.0.tgz',
      'https://charts.example.com/sub/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/sub//',
      'payment-1.0.0.tgz',
      'https://charts.example.com/sub//payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/a/b',
      '../payment-1.0.0.tgz',
      'https://charts.example.com/a/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/a/b',
      '../../../payment-1.0.0.tgz',
      'https://charts.example.com/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/a/b',
      './x/./payment-1.0.0.tgz',
      'https://charts.example.com/a/b/x/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/a/b',
      '/root/payment-1.0.0.tgz',
      'https://charts.example.com/root/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/a',
      'charts/payment-1.0.0.tgz',
      'https://charts.example.com/a/charts/payment-1.0.0.tgz',
    ],
    // The base's query replaces the reference's, present or not.
    [
      'https://charts.example.com/a?token=abc',
      'payment-1.0.0.tgz',
      'https://charts.example.com/a/payment-1.0.0.tgz?token=abc',
    ],
    [
      'https://charts.example.com/a?token=abc',
      'payment-1.0.0.tgz?other=1',
      'https://charts.example.com/a/payment-1.0.0.tgz?token=abc',
    ],
    [
      'https://charts.example.com/a',
      'payment-1.0.0.tgz?other=1',
      'https://charts.example.com/a/payment-1.0.0.tgz',
    ],
    // An absolute reference is taken as it is, its query kept and the base's not added.
    [
      'https://charts.example.com/a',
      'https://cdn.example.org/p/payment-1.0.0.tgz?sig=1',
      'https://cdn.example.org/p/payment-1.0.0.tgz?sig=1',
    ],
    [
      'https://charts.example.com/a?token=abc',
      'https://cdn.example.org/payment-1.0.0.tgz',
      'https://cdn.example.org/payment-1.0.0.tgz',
    ],
    [
      'https://charts.example.com/a',
      '//cdn.example.org/payment-1.0.0.tgz',
      'https://cdn.example.org/payment-1.0.0.tgz',
    ],
    [
      'http://127.0.0.1:8080/a/',
      'http://127.0.0.1:9090/payment-1.0.0.tgz',
      'http://127.0.0.1:9090/payment-1.0.0.tgz',
    ],
  ])('%s + %s → %s', (base, ref, expected) => {
    expect(resolveReferenceUrl(parseRepositoryUrl(base), ref).href).toBe(expected);
  });

  it.each([
    ['https://charts.example.com/a', 'https://charts.example.com/a/index.yaml'],
    ['https://charts.example.com/a/', 'https://charts.example.com/a/index.yaml'],
    ['https://charts.example.com/a?x=1', 'https://charts.example.com/a/index.yaml?x=1'],
  ])('index of %s is %s', (base, expected) => {
    expect(indexUrl(parseRepositoryUrl(base)).href).toBe(expected);
  });

  it.each([
    ['https://charts.example.com/a/payment-1.0.0.tgz', 'https://charts.example.com/a/payment-1.0.0.tgz.prov'],
    // helm appends ".prov" to the URL's text: after a query, as helm does.
    [
      'https://charts.example.com/a/payment-1.0.0.tgz?token=abc',
      'https://charts.example.com/a/payment-1.0.0.tgz?token=abc.prov',
    ],
  ])('provenance of %s is %s', (chart, expected) => {
    expect(provenanceUrl(new URL(chart)).href).toBe(expected);
  });

  it.each([
    ['a backslash (WHATWG reads a slash)', '..\\payment.tgz'],
    ['an encoded dot segment (WHATWG resolves it, Go does not)', '%2e%2e/payment.tgz'],
    ['a fragment (".prov" would land in it)', 'payment.tgz#x'],
    ['a space', 'pay ment.tgz'],
    ['non-ASCII', 'paymént.tgz'],
    ['a broken percent escape', 'pay%zzment.tgz'],
    ['another scheme', 'file:///etc/passwd'],
    ['userinfo (Go would send it as basic auth)', 'https://user:pw@cdn.example.org/payment.tgz'],
    ['a colon in the first segment (Go refuses it)', '1a:b/payment.tgz'],
    ['an empty URL', ''],
  ])('refuses a chart URL with %s', (_why, ref) => {
    const attempt = (): URL => resolveReferenceUrl(parseRepositoryUrl('https://charts.example.com/a'), ref);
    expect(attempt).toThrow();
    try {
      attempt();
    } catch (error) {
      expect(isHelmRepositoryError(error, 'InvalidChartUrl')).toBe(true);
    }
  });

  it.each([
    ['oci://ghcr.io/acme/charts'],
    ['charts.example.com'],
    ['https://user:secret@charts.example.com'],
    ['https://charts.example.com/a b'],
  ])('refuses the repository URL %s', (url) => {
    expect(() => parseRepositoryUrl(url)).toThrow(expect.objectContaining({ code: 'InvalidRepositoryUrl' }));
  });
});
