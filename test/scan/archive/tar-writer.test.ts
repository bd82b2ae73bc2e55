import { describe, expect, it } from 'vitest';
import { loadChartArchive } from '../../../src/scan/archive/chart-archive.ts';
import { packTgz } from '../../../src/scan/archive/tar-writer.ts';
import { defaultScanLimits } from '../../../src/scan/limits.ts';

describe('packTgz', () => {
  it('re-packs a tree that the strict reader reads back identically, long names included', async () => {
    const long = `templates/${'n'.repeat(150)}/deep/x.yaml`;
    const files = new Map([
      ['Chart.yaml', Buffer.from('apiVersion: v2\nname: demo\nversion: 1.2.3\n')],
      ['templates/a.yaml', Buffer.from('kind: A\n')],
      [long, Buffer.from('x'.repeat(1000))],
      ['charts/sub/Chart.yaml', Buffer.from('apiVersion: v2\nname: sub\nversion: 0.1.0\n')],
    ]);
    const chart = await loadChartArchive(packTgz('demo', files), defaultScanLimits);
    expect(chart.directory).toBe('demo');
    expect(chart.version).toBe('1.2.3');
    expect(new Map([...chart.files].map(([k, v]) => [k, v.toString()]))).toEqual(
      new Map([...files].map(([k, v]) => [k, v.toString()])),
    );
  });
});
