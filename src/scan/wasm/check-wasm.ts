// WASM modules are compiled (validated) with the engine's own compiler and never instantiated: nothing in
// them runs. Their imports ("module.name") are checked against the allowedImports globs.

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

const globToRegExp = (glob: string): RegExp =>
  new RegExp(
    `^${glob
      .split('')
      .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('')}$`,
    's',
  );

/** `*` matches any run of characters (dots included), `?` one character. */
export const matchesAnyGlob = (value: string, globs: readonly string[]): boolean =>
  globs.some((glob) => globToRegExp(glob).test(value));

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
  const disallowed =
    allowedImports === undefined ? [] : imports.filter((i) => !matchesAnyGlob(i, allowedImports));
  return { digest, valid: true, imports, disallowed };
};
