// WASM modules are compiled (validated) with the engine's own compiler and never instantiated: nothing in
// them runs. Their imports ("module.name") are checked against the allowedImports globs.
import { compileGlob } from '../../re2-pattern.ts';

/** The slice of the WebAssembly JS API used here (the project's lib settings carry no DOM/wasm typings). */
interface WasmApi {
  compile(bytes: Uint8Array): Promise<object>;
  readonly Module: {
    imports(module: object): { readonly module: string; readonly name: string; readonly kind: string }[];
  };
}

const wasmApi = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export const WASM_LAYER_MEDIA_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.wasm.content.layer.v1+wasm',
  'application/vnd.module.wasm.content.layer.v1+wasm',
  'application/wasm',
  'application/vnd.bytecodealliance.wasm.component.layer.v0+wasm',
]);

export interface WasmModuleResult {
  /** The layer digest. */
  readonly digest: string;
  readonly valid: boolean;
  /** "module.name" of every import. */
  readonly imports: readonly string[];
  /** Imports no allowedImports glob matches (empty when allowedImports is not set). */
  readonly disallowed: readonly string[];
  readonly reason?: string;
}

/** `*` matches any run of characters (dots included), `?` one character. RE2, compiled once: import names
 *  are the attacker's, and a backtracking `.*a.*a.*b` over a long name would block the event loop. */
export const globMatcher = (globs: readonly string[]): ((value: string) => boolean) => {
  const patterns = globs.map(compileGlob);
  return (value) => patterns.some((p) => p.matchesWhole(value));
};

export const matchesAnyGlob = (value: string, globs: readonly string[]): boolean => globMatcher(globs)(value);

export const checkWasmModule = async (
  digest: string,
  bytes: Uint8Array,
  allowedImports: readonly string[] | undefined,
): Promise<WasmModuleResult> => {
  let module: object;
  try {
    module = await wasmApi.compile(new Uint8Array(bytes));
  } catch (error) {
    return {
      digest,
      valid: false,
      imports: [],
      disallowed: [],
      reason: `not a valid WASM module: ${(error as Error).message}`,
    };
  }
  const imports = wasmApi.Module.imports(module).map((i) => `${i.module}.${i.name}`);
  const allowed = allowedImports === undefined ? undefined : globMatcher(allowedImports);
  const disallowed = allowed === undefined ? [] : imports.filter((i) => !allowed(i));
  return { digest, valid: true, imports, disallowed };
};
