// The static template scan: what is removed, and that hostile templates (runs of `{{`, unterminated
// actions and comments) cost linear time.
import { describe, expect, it } from 'vitest';
import { PLACEHOLDER, stripTemplate } from '../../../src/scan/helm/static-templates.ts';

/** Best of five, so a garbage collection or a busy machine does not pass for superlinear time. */
const timeOf = (text: string): number => {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    stripTemplate(text);
    best = Math.min(best, performance.now() - started);
  }
  return best;
};

// Best-of-five timings of 8 MiB inputs: the default 5 s per test is too short on a loaded machine.
describe('stripTemplate', { timeout: 60_000 }, () => {
  it('removes comments, drops lines that hold only an action, replaces inline actions', () => {
    const template = [
      '{{- /* a comment',
      '   over lines */ -}}',
      '{{- if .Values.x }}',
      'name: {{ .Release.Name }}-x',
      '  {{- include "labels" . | nindent 4 }}',
      'image: "{{ .Values.image }}"',
      '{{- end }}',
    ].join('\n');
    expect(stripTemplate(template)).toBe(
      ['', '', `name: ${PLACEHOLDER}-x`, '', `image: "${PLACEHOLDER}"`, ''].join('\n'),
    );
  });

  it('leaves an unterminated action as it is', () => {
    expect(stripTemplate('a: {{ b\nc: {{ d }}')).toBe(`a: ${PLACEHOLDER}`);
    expect(stripTemplate('a: 1\nb: {{ c')).toBe('a: 1\nb: {{ c');
  });

  it.each([
    ['{{', '{{'],
    ['{{/*', '{{/*'],
    ['{{- /* x */', '{{- /* x */'],
    ['unterminated actions', '{{ a '],
    ['comment ends without }}', '{{/* */ '],
    ['actions on one line', '{{ x }}'],
  ])('runs in linear time on 1 MiB and 8 MiB of %s', (_name, unit) => {
    const mib = (n: number): string => unit.repeat(Math.ceil((n * 1024 * 1024) / unit.length));
    const small = timeOf(mib(1));
    const large = timeOf(mib(8));
    expect(large).toBeLessThan(10_000);
    // Linear is 8×, quadratic 64×: 24 leaves room for a loaded machine and still catches the latter.
    expect(large / Math.max(small, 30)).toBeLessThan(24);
  });
});
