// Hostile YAML in a chart scanned statically (no helm), each in a fresh process that reports the coded error and
// its peak memory: the caps are per chart (all templates of a chart and its subcharts together), so 128 files
// of objects stop at the chart's cap, well under 300 MB.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScanErrorCode } from '../../src/scan/errors.ts';
import { peakOfProcessAndChildren, scanInChild } from './support/scan-in-child.ts';
import { buildTgz, chartEntries } from './support/tar-builder.ts';

const MEMORY_BOUND = 300 * 1024 * 1024;

/** Names that do not repeat, so the archive stays under the compression-ratio cap. */
const names = (seed: number): (() => string) => {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    return state.toString(36);
  };
};

/** `files` templates of `perFile` ConfigMaps each. */
const manyObjects = (files: number, perFile: number): Buffer => {
  const templates: Record<string, string> = {};
  const next = names(7);
  for (let f = 0; f < files; f++) {
    templates[`t${f}.yaml`] = Array.from(
      { length: perFile },
      () => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c${next()}}\n`,
    ).join('---\n');
  }
  return buildTgz(chartEntries('many', templates));
};

/** `files` templates of flow maps that are not Kubernetes objects: only the node cap can stop them. */
const manyNodes = (files: number, perFile: number): Buffer => {
  const templates: Record<string, string> = {};
  const next = names(11);
  for (let f = 0; f < files; f++) {
    templates[`t${f}.yaml`] =
      `a: [${Array.from({ length: perFile }, () => `{k${next()}: [1, 2]}`).join(', ')}]\n`;
  }
  return buildTgz(chartEntries('flow', templates));
};

// Child processes and timing: the default 5 s per test is too short on a loaded 2-core machine.
describe('hostile YAML in a statically scanned chart, in a separate process', { timeout: 60_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tagguard-hostile-yaml-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const cases: [string, () => Buffer, ScanErrorCode][] = [
    [
      '128 templates of 2,000 objects each (per-chart object cap)',
      () => manyObjects(128, 2000),
      'TooManyObjects',
    ],
    ['128 templates of flow maps (per-chart node cap)', () => manyNodes(128, 4000), 'YamlTooManyNodes'],
    [
      '1 MiB of unterminated `{{` actions in a template (quadratic for the old regexes)',
      () => {
        const next = names(3);
        const braces = Array.from({ length: 110_000 }, () => `{{${next()} `).join('');
        return buildTgz(chartEntries('braces', { 'x.yaml': braces }));
      },
      'ok' as ScanErrorCode,
    ],
    [
      'a document nested 10,000 levels deep',
      () => buildTgz(chartEntries('deep', { 'x.yaml': `a: ${'['.repeat(10_000)}` })),
      'YamlTooDeep',
    ],
  ];

  it.each(cases)('%s → %s, bounded time and memory', async (name, build, code) => {
    const file = join(dir, `${name.replace(/\W+/g, '-')}.tgz`);
    await writeFile(file, build());
    const report = await scanInChild(file);
    expect(report.code ?? 'ok').toBe(code);
    expect(report.elapsedMs).toBeLessThan(30_000);
    expect(peakOfProcessAndChildren(report)).toBeLessThan(MEMORY_BOUND);
  });
});
