// The fallback when no helm binary is available: the raw templates of the chart and its subcharts with
// every `{{ … }}` action removed. Best effort only — conditionals are not evaluated, values not
// substituted — so the result is marked rendered: false and documents that do not parse are skipped.
import type { ChartFiles } from '../archive/chart-archive.ts';

const TEMPLATE = /(^|\/)templates\/(.+\/)?[^/]+\.ya?ml$/;
/** An action alone on its line (control flow, `toYaml … | nindent`): dropped with the line. */
const LINE_ACTION = /^[ \t]*\{\{(?:(?!\}\})[^\n])*\}\}[ \t]*$/gm;
/** A template comment, possibly over several lines. */
const COMMENT = /\{\{-?\s*\/\*[\s\S]*?\*\/\s*-?\}\}/g;
/** An action inside a value (`name: {{ .Release.Name }}`): replaced by a placeholder so the value stays. */
const INLINE_ACTION = /\{\{[\s\S]*?\}\}/g;
export const PLACEHOLDER = 'templated';

/** True for the manifest templates helm would render (not helpers, not NOTES.txt). */
export const isManifestTemplate = (path: string): boolean => TEMPLATE.test(path);

/** The stripped text of each manifest template, by path. */
export const staticTemplates = (chart: ChartFiles): { path: string; text: string }[] =>
  [...chart.files.entries()]
    .filter(([path]) => isManifestTemplate(path))
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([path, data]) => ({
      path,
      text: data
        .toString('utf8')
        .replace(COMMENT, '')
        .replace(LINE_ACTION, '')
        .replace(INLINE_ACTION, PLACEHOLDER),
    }));
