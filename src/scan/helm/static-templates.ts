// The fallback when no helm binary is available: the raw templates of the chart and its subcharts with
// every `{{ … }}` action removed. Best effort only — conditionals are not evaluated, values not
// substituted — so the result is marked rendered: false and documents that do not parse are skipped.
// Linear time in the template size: three forward scans with indexOf, no backtracking regular expression.
import type { ChartFiles } from '../archive/chart-archive.ts';

const TEMPLATE = /(^|\/)templates\/(.+\/)?[^/]+\.ya?ml$/;
export const PLACEHOLDER = 'templated';

/** True for the manifest templates helm would render (not helpers, not NOTES.txt). */
export const isManifestTemplate = (path: string): boolean => TEMPLATE.test(path);

const isBlank = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v';

/** End (exclusive) of a template comment `{{- /* … *\/ -}}` at `open`; -1: not a comment, -2: never ends. */
const commentEnd = (text: string, open: number): number => {
  let at = open + 2;
  if (text[at] === '-') at++;
  while (isBlank(text[at])) at++;
  if (!text.startsWith('/*', at)) return -1;
  let close = text.indexOf('*/', at + 2);
  while (close !== -1) {
    let end = close + 2;
    while (isBlank(text[end])) end++;
    if (text[end] === '-') end++;
    if (text.startsWith('}}', end)) return end + 2;
    close = text.indexOf('*/', close + 2);
  }
  return -2;
};

/** Removes template comments (which may span lines). */
const removeComments = (text: string): string => {
  const out: string[] = [];
  let from = 0;
  // Once a comment start finds no end, no later one can: past that point nothing is searched again.
  let unterminatedFrom = Number.POSITIVE_INFINITY;
  let open = text.indexOf('{{');
  while (open !== -1) {
    const end = open < unterminatedFrom ? commentEnd(text, open) : -1;
    if (end === -2) unterminatedFrom = open;
    if (end >= 0) {
      out.push(text.slice(from, open));
      from = end;
    }
    open = text.indexOf('{{', end >= 0 ? end : open + 2);
  }
  out.push(text.slice(from));
  return out.join('');
};

/** An action alone on its line (control flow, `toYaml … | nindent`) is dropped with the line's text. */
const removeLineActions = (text: string): string =>
  text
    .split('\n')
    .map((line) => {
      const trimmed = line.trim();
      return trimmed.startsWith('{{') &&
        trimmed.endsWith('}}') &&
        trimmed.indexOf('}}') === trimmed.length - 2
        ? ''
        : line;
    })
    .join('\n');

/** An action inside a value (`name: {{ .Release.Name }}`) becomes a placeholder so the value stays. */
const replaceInlineActions = (text: string): string => {
  const out: string[] = [];
  let from = 0;
  let open = text.indexOf('{{');
  while (open !== -1) {
    const close = text.indexOf('}}', open + 2);
    if (close === -1) break; // unterminated: left as it is (the document will not parse and is skipped)
    out.push(text.slice(from, open), PLACEHOLDER);
    from = close + 2;
    open = text.indexOf('{{', from);
  }
  out.push(text.slice(from));
  return out.join('');
};

/** The stripped text of one template. */
export const stripTemplate = (template: string): string =>
  replaceInlineActions(removeLineActions(removeComments(template)));

/** The stripped text of each manifest template, by path. */
export function* staticTemplates(chart: ChartFiles): Generator<{ path: string; text: string }> {
  // One template at a time: a chart's budget trips on the first templates, before the rest are decoded.
  const paths = [...chart.files.keys()].filter(isManifestTemplate).sort((a, b) => a.localeCompare(b));
  for (const path of paths)
    yield { path, text: stripTemplate(chart.files.get(path)?.toString('utf8') ?? '') };
}
