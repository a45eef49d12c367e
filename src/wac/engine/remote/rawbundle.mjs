// Bundle a raw app's frontend as wmill 1.819's `createBundle` does (src/commands/app/bundle.ts of
// windmill-cli, Apache-2.0): esbuild's JavaScript API, the same build options, the `wmill-virtual`
// plugin answering `./wmill` imports with Windmill's client shim (rawapp_wmill.ts, copied verbatim
// from windmill-cli 1.819.0), the shared `ui/` folder plugin and the Svelte plugin.
//
// Usage: node rawbundle.mjs '<json: {entryPoint, appDir, sharedUiDir, esbuild, svelte, shim}>'
// Prints one JSON document {js, css} on stdout; on failure, the reason on stderr and exit code 1.
import * as fs from "node:fs";
import * as path from "node:path";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";

const args = JSON.parse(process.argv[2]);
const DEFAULT_BUILD_OPTIONS = {
  bundle: true, format: "iife", platform: "browser", target: "es2020", jsx: "automatic",
  loader: { ".css": "css" }, conditions: ["style", "module"], logLevel: "silent", write: true,
};
const ESM_CONDITIONS = ["node", "import", "default"];

function fail(message) {
  process.stderr.write(message + "\n");
  process.exit(1);
}

async function loadEsbuild() {
  const requireFromApp = createRequire(path.join(path.resolve(args.appDir), "package.json"));
  for (const candidate of [args.esbuild, "esbuild"]) {
    if (!candidate) continue;
    try {
      const resolved = candidate === "esbuild" ? requireFromApp.resolve("esbuild") : candidate;
      const mod = await import(pathToFileURL(resolved).href);
      const esbuild = mod.build ? mod : mod.default;
      await esbuild.transform("");
      return esbuild;
    } catch {}
  }
  fail("esbuild (the npm package) was not found");
}

function esmConditionTarget(subpath) {
  if (typeof subpath === "string") return subpath;
  if (!subpath || typeof subpath !== "object" || Array.isArray(subpath)) return undefined;
  for (const [condition, target] of Object.entries(subpath)) {
    if (!ESM_CONDITIONS.includes(condition)) continue;
    const entry = esmConditionTarget(target);
    if (entry) return entry;
  }
  return undefined;
}

async function loadSvelteCompiler(appDir) {
  const requireFromApp = createRequire(path.join(path.resolve(appDir), "package.json"));
  let entry;
  try {
    const pkgPath = requireFromApp.resolve("svelte/package.json");
    const target = esmConditionTarget(JSON.parse(fs.readFileSync(pkgPath, "utf8"))?.exports?.["./compiler"]);
    if (target?.startsWith(".")) {
      const candidate = path.resolve(path.dirname(pkgPath), target);
      if (fs.existsSync(candidate)) entry = candidate;
    }
  } catch {}
  entry ??= requireFromApp.resolve("svelte/compiler");
  const mod = await import(pathToFileURL(entry).href);
  return typeof mod?.compile === "function" ? mod : mod?.default ?? mod;
}

function sveltePlugin(appDir) {
  let compiler;
  const svelte = () => (compiler ??= loadSvelteCompiler(appDir));
  const convert = (source, filename) => ({ message, start, end }) => {
    let location;
    if (start && end) {
      const lineText = source.split(/\r\n|\r|\n/g)[start.line - 1];
      const lineEnd = start.line === end.line ? end.column : lineText.length;
      location = { file: filename, line: start.line, column: start.column, length: lineEnd - start.column, lineText };
    }
    return { text: message, location };
  };
  return {
    name: "svelte",
    setup(build) {
      build.onLoad({ filter: /\.svelte$/ }, async (a) => {
        const s = await svelte();
        const source = fs.readFileSync(a.path, "utf8");
        const filename = path.relative(process.cwd(), a.path);
        try {
          const { js, warnings } = s.compile(source, { filename, css: "injected" });
          return { contents: js.code + "//# sourceMappingURL=" + js.map.toUrl(), warnings: warnings.map(convert(source, filename)) };
        } catch (e) {
          return { errors: [convert(source, filename)(e)] };
        }
      });
      build.onLoad({ filter: /\.svelte\.[jt]s$/ }, async (a) => {
        const s = await svelte();
        const source = fs.readFileSync(a.path, "utf8");
        const filename = path.relative(process.cwd(), a.path);
        try {
          const code = filename.endsWith(".ts")
            ? (await build.esbuild.transform(source, { loader: "ts", sourcefile: filename })).code : source;
          const { js, warnings } = s.compileModule(code, { filename });
          return { contents: js.code + "//# sourceMappingURL=" + js.map.toUrl(), loader: "js",
                   warnings: warnings.map(convert(source, filename)) };
        } catch (e) {
          return { errors: [convert(source, filename)(e)] };
        }
      });
    },
  };
}

const shim = fs.readFileSync(args.shim, "utf8");
const wmillPlugin = {
  name: "wmill-virtual",
  setup(build) {
    build.onResolve({ filter: /^(\.\.\/)+wmill(\.ts)?$|^(\.\/|\/)?wmill(\.ts)?$/ },
                    (a) => ({ path: a.path, namespace: "wmill-virtual" }));
    build.onLoad({ filter: /.*/, namespace: "wmill-virtual" }, () => ({ contents: shim, loader: "ts" }));
  },
};
const plugins = [];
if (args.svelte) plugins.push(sveltePlugin(args.appDir));
plugins.push(wmillPlugin);
if (args.sharedUiDir && fs.existsSync(args.sharedUiDir)) {
  const dir = args.sharedUiDir;
  plugins.push({
    name: "wmill-shared-ui",
    setup(build) {
      build.onResolve({ filter: /^\/ui\// }, (a) => {
        const rel = a.path.slice("/ui/".length);
        const candidates = [rel];
        if (!path.extname(rel)) {
          candidates.push(rel + ".tsx", rel + ".ts", rel + ".jsx", rel + ".js", rel + ".css",
                          path.join(rel, "index.tsx"), path.join(rel, "index.ts"));
        }
        for (const c of candidates) {
          const full = path.join(dir, c);
          if (fs.existsSync(full)) return { path: full };
        }
        return { errors: [{ text: `Could not resolve shared UI import "${a.path}" in ${dir}` }] };
      });
    },
  });
}

const esbuild = await loadEsbuild();
let result;
try {
  result = await esbuild.build({
    ...DEFAULT_BUILD_OPTIONS,
    conditions: args.svelte ? [...DEFAULT_BUILD_OPTIONS.conditions, "svelte"] : DEFAULT_BUILD_OPTIONS.conditions,
    entryPoints: [args.entryPoint],
    outfile: path.join("dist", "bundle.js"),
    sourcemap: false,
    minify: true,
    write: false,
    define: { "process.env.NODE_ENV": '"production"' },
    plugins,
  });
} catch (e) {
  const errors = e?.errors?.map((x) => (x.location ? `${x.location.file}:${x.location.line}: ` : "") + x.text);
  fail(errors?.length ? errors.join("; ") : String(e?.message ?? e).split("\n")[0]);
} finally {
  await esbuild.stop?.();
}
const outputs = result.outputFiles ?? [];
const js = outputs.find((f) => f.path.endsWith(".js"));
const css = outputs.find((f) => f.path.endsWith(".css"));
if (!js) fail("esbuild produced no JavaScript bundle");
process.stdout.write(JSON.stringify({ js: js.text, css: css?.text ?? "" }));
