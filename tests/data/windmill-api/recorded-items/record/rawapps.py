"""Record wmill 1.819's pull and push of a raw app, and of extra_perms and --message
(python record/rawapps.py OUT_DIR): OUT_DIR/workspace.json, OUT_DIR/pull-dotted/, OUT_DIR/pull-nondotted/,
OUT_DIR/push.jsonl (first push into an empty fake with --message, then a second after editing a backend
script, the summary, a frontend file and the flow's extra_perms, then a third after deleting the raw app),
OUT_DIR/bundle.js / bundle.css (what the first push sent as the raw app's js / css)."""
import sys, pathlib, shutil, json, copy
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from rec import fake, run

INDEX = """import { backend } from './wmill'
import './index.css'

const root = document.getElementById('root')!
async function show(): Promise<void> {
  const rows = await backend.load_rows({ n: 3 })
  root.textContent = `rows: ${JSON.stringify(rows)}`
}
show()
"""
RAW = {
    "summary": "Ops board",
    "custom_path": "ops-board",
    "value": {
        "runnables": {
            "load_rows": {"type": "inline", "name": "load_rows",
                          "fields": {"n": {"type": "static", "value": 3, "fieldType": "number"},
                                     "who": {"type": "user", "value": None, "fieldType": "object"},
                                     "day": {"type": "javascript", "expr": "new Date()", "fieldType": "string"},
                                     "ctx": {"type": "ctx", "ctx": "email", "fieldType": "string"}},
                          "inlineScript": {"content": "def main(n: int = 3):\n    return list(range(n))\n",
                                           "language": "python3", "lock": "# py: 3.12\n",
                                           "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}}},
            "Greet": {"type": "inline",
                      "inlineScript": {"content": "export async function main(name: string) {\n  return `hi ${name}`\n}\n",
                                       "language": "bun"}},
            "rows_by_path": {"type": "path", "runType": "script", "path": "f/demo/rows",
                             "schema": {"type": "object", "properties": {}}, "fields": {}},
        },
        "files": {
            "/index.tsx": INDEX,
            "/index.css": "body {\n  margin: 0;\n}\n#root {\n  padding: 24px;\n}\n",
            "/package.json": "{\n  \"dependencies\": {}\n}\n",
            "/lib/format.ts": "export const fmt = (n: number): string => n.toFixed(2)\n",
            "/wmill.d.ts": "declare module './wmill' {}\n",
            "/AGENTS.md": "# agents\n",
            "/sql_to_apply/001.sql": "create table t (id int);\n",
        },
        "data": {"datatable": "main", "schema": "ops", "tables": ["main/ops:rows"]},
    },
    "policy": {"execution_mode": "publisher", "triggerables_v2": {}},
}
FLOW = {"summary": "ETL", "value": {"modules": []}, "schema": {"type": "object", "properties": {}}}
APP = {"summary": "Plain app", "value": {"grid": [], "hiddenInlineScripts": []},
       "policy": {"execution_mode": "viewer", "triggerables_v2": {}}}
ACLS = {("raw_app", "f/demo/board"): {"g/ops": False}, ("flow", "f/demo/etl"): {"u/bob": True, "g/all": False},
        ("app", "f/demo/plain"): {"u/ann": True}}


def load(wm):
    wm.apps["f/demo/board"] = {**copy.deepcopy(RAW), "raw_app": True}
    wm.apps["f/demo/plain"] = copy.deepcopy(APP)
    wm.flows["f/demo/etl"] = copy.deepcopy(FLOW)
    wm.acls.update(copy.deepcopy(ACLS))


def dump(wm, name):
    with open(out / name, "w") as fh:
        for r in wm.requests:
            doc = {"method": r.method, "path": r.path, "query": {k: v[-1] for k, v in r.query.items()}, "status": r.status}
            ctype = r.headers.get("content-type", "")
            if ctype.startswith("multipart/form-data"):
                from tests.remote.fakewindmill import form_fields
                form = form_fields(ctype, r.body)
                doc["form"] = {k: (json.loads(v) if k == "app" else f"<{len(v)} chars>") for k, v in form.items()}
            elif r.body:
                doc["body_json"] = json.loads(r.body)
            fh.write(json.dumps(doc) + "\n")


out = pathlib.Path(sys.argv[1])
readme = (out / "README.md").read_text() if (out / "README.md").exists() else None
shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
if readme is not None:
    (out / "README.md").write_text(readme)
(out / "workspace.json").write_text(json.dumps({"apps": {"f/demo/board": RAW, "f/demo/plain": APP}, "flows": {"f/demo/etl": FLOW},
                                                "acls": [[k, p, v] for (k, p), v in ACLS.items()]}, indent=2) + "\n")
for layout in ("dotted", "nondotted"):
    wm = fake(); load(wm)
    repo = out / f"pull-{layout}"; repo.mkdir()
    (repo / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\nskipFolders: true\n" + ("nonDottedPaths: true\n" if layout == "nondotted" else ""))
    run(wm, repo, "sync", "pull", "--yes")
    print([(r.method, r.path, r.status) for r in wm.requests], file=sys.stderr)
    wm.stop()
    for junk in (".home", ".cfg", "wmill-lock.yaml"):
        p = repo / junk
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

work = out / "work"; shutil.copytree(out / "pull-dotted", work)
(work / "f/demo/board.raw_app/node_modules").mkdir()  # wmill runs `npm install` in a raw app without one
wm = fake()
run(wm, work, "sync", "push", "--yes", "--message", "first deploy")
(out / "bundle.js").write_text(wm.bundles["f/demo/board"]["js"])
(out / "bundle.css").write_text(wm.bundles["f/demo/board"]["css"])
app = work / "f/demo/board.raw_app"
(app / "backend/load_rows.py").write_text("def main(n: int = 3):\n    return list(range(n + 1))\n")
y = app / "raw_app.yaml"; y.write_text(y.read_text().replace("Ops board", "Ops board 2"))
(app / "index.css").write_text("body {\n  margin: 1px;\n}\n")
f = work / "f/demo/etl.flow/flow.yaml"; f.write_text(f.read_text().replace("  u/bob: true\n", "  u/carl: true\n"))
run(wm, work, "sync", "push", "--yes")
shutil.rmtree(app)
run(wm, work, "sync", "push", "--yes")
dump(wm, "push.jsonl")
print([(r.method, r.path, r.status) for r in wm.requests], file=sys.stderr)
print("violations", wm.violations, file=sys.stderr)
wm.stop()
shutil.rmtree(work)
