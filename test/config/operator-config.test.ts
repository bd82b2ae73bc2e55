import { describe, expect, it } from 'vitest';
import { ConfigError, parseListenAddress, parseOperatorConfig } from '../../src/config/operator-config.ts';

const environment = { isTty: false, podNamespace: 'tagguard-system', podName: 'tagguard-7d9f' };

describe('operator configuration', () => {
  it('has the documented defaults', () => {
    const config = parseOperatorConfig([], environment);
    expect(config).toMatchObject({
      argocdNamespace: 'argocd',
      metricsAddr: { host: '0.0.0.0', port: 8080 },
      healthAddr: { host: '0.0.0.0', port: 8081 },
      leaderElect: false,
      leaderElectionNamespace: 'tagguard-system',
      leaderElectionId: 'tagguard-leader',
      allowCrossNamespaceRefs: false,
      concurrency: 4,
      registryQps: 20,
      logLevel: 'info',
      logPretty: false,
    });
    expect(config.identity).toMatch(/^tagguard-7d9f_\d+$/);
    expect(config.helmBinary).toBeUndefined();
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('takes every flag of docs/operations.md', () => {
    const config = parseOperatorConfig(
      [
        '--kubeconfig', '/k', '--watch-namespace', 'apps', '--argocd-namespace', 'gitops',
        '--metrics-addr', '127.0.0.1:9090', '--health-addr', '[::1]:9091', '--leader-elect',
        '--allow-cross-namespace-refs', '--concurrency', '8', '--helm', '/usr/bin/helm', '--log-level', 'debug',
      ],
      environment,
    );
    expect(config).toMatchObject({
      kubeconfig: '/k',
      watchNamespace: 'apps',
      argocdNamespace: 'gitops',
      metricsAddr: { host: '127.0.0.1', port: 9090 },
      healthAddr: { host: '::1', port: 9091 },
      leaderElect: true,
      allowCrossNamespaceRefs: true,
      concurrency: 8,
      helmBinary: '/usr/bin/helm',
      logLevel: 'debug',
    });
  });

  it('uses helm from PATH unless told "none"', () => {
    expect(parseOperatorConfig([], { ...environment, helmOnPath: '/bin/helm' }).helmBinary).toBe('/bin/helm');
    expect(parseOperatorConfig(['--helm', 'none'], { ...environment, helmOnPath: '/bin/helm' }).helmBinary).toBeUndefined();
  });

  it.each([
    [['--concurrency', '0'], 'InvalidValue'],
    [['--concurrency', 'many'], 'InvalidValue'],
    [['--log-level', 'loud'], 'InvalidValue'],
    [['--registry-qps=-1'], 'InvalidValue'],
    [['--registry-qps', 'fast'], 'InvalidValue'],
    [['--log-format', 'xml'], 'InvalidValue'],
    [['--metrics-addr', '8080'], 'InvalidValue'],
    [['--metrics-addr', ':99999'], 'InvalidValue'],
    [['--watch-label-selector', 'sharding.tagguard.dev/key=shard1,'], 'InvalidValue'],
    [['--watch-label-selector', 'key in shard1'], 'InvalidValue'],
    [['--object-metrics', 'some'], 'InvalidValue'],
    [['--no-such-flag'], 'InvalidFlag'],
    [['positional'], 'InvalidFlag'],
  ])('rejects %j with %s', (argv, code) => {
    expect(() => parseOperatorConfig(argv, environment)).toThrow(ConfigError);
    try {
      parseOperatorConfig(argv, environment);
    } catch (error) {
      expect((error as ConfigError).code).toBe(code);
    }
  });

  it('parses --watch-label-selector once; an empty one selects everything', () => {
    expect(parseOperatorConfig([], environment).watchLabelSelector).toBeUndefined();
    expect(parseOperatorConfig(['--watch-label-selector', ' '], environment).watchLabelSelector).toBeUndefined();
    expect(
      parseOperatorConfig(['--watch-label-selector', 'sharding.tagguard.dev/key=shard1'], environment)
        .watchLabelSelector,
    ).toEqual({
      text: 'sharding.tagguard.dev/key=shard1',
      requirements: [{ key: 'sharding.tagguard.dev/key', op: 'in', values: ['shard1'] }],
    });
  });

  it('turns the webhook receiver on with its Secret, the namespace defaulting to the Pod\'s', () => {
    expect(parseOperatorConfig([], environment).webhook).toBeUndefined();
    expect(
      parseOperatorConfig(['--webhook-addr', ':9443', '--webhook-secret', 'gitops/registry-hooks'], environment).webhook,
    ).toEqual({ addr: { host: '0.0.0.0', port: 9443 }, secretNamespace: 'gitops', secretName: 'registry-hooks' });
    expect(parseOperatorConfig(['--webhook-addr', ':9443', '--webhook-secret', 'hooks'], environment).webhook).toMatchObject({
      secretNamespace: 'tagguard-system',
      secretName: 'hooks',
    });
  });

  it.each([
    [['--webhook-addr', ':9443']],
    [['--webhook-secret', 'ns/name']],
    [['--webhook-addr', ':9443', '--webhook-secret', 'a/b/c']],
    [['--webhook-addr', ':9443', '--webhook-secret', 'NS/name']],
    [['--webhook-addr', ':9443', '--webhook-secret', '/name']],
    [['--webhook-addr', '9443', '--webhook-secret', 'ns/name']],
  ])('refuses webhook flags %j with InvalidValue', (argv) => {
    try {
      parseOperatorConfig(argv, environment);
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).code).toBe('InvalidValue');
    }
  });

  it('parses listen addresses', () => {
    expect(parseListenAddress('x', ':0')).toEqual({ host: '0.0.0.0', port: 0 });
    expect(parseListenAddress('x', 'localhost:8080')).toEqual({ host: 'localhost', port: 8080 });
  });
});
