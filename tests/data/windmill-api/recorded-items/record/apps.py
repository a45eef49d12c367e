"""Record wmill 1.819's pull and push of an app (python record/apps.py OUT_DIR): OUT_DIR/workspace.json,
OUT_DIR/pull-dotted/, OUT_DIR/pull-nondotted/, OUT_DIR/push.jsonl (first push into an empty fake, then
a second push after editing an inline script and the summary, then a third after deleting the app)."""
import sys, pathlib, shutil, json, copy
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from rec import fake, run

APP = {
    "summary": "Demo dashboard",
    "value": {
        "grid": [
            {"id": "a", "3": {"x": 0, "y": 0, "w": 2, "h": 1}, "12": {"x": 0, "y": 0, "w": 6, "h": 1},
             "data": {"type": "buttoncomponent", "id": "a", "configuration": {"label": {"type": "static", "value": "Go"}},
                      "componentInput": {"type": "runnable", "fieldType": "any", "fields": {
                          "x": {"type": "static", "value": 1, "fieldType": "number"},
                          "choice": {"type": "evalv2", "expr": "g.result", "connections": [{"componentId": "g", "id": "result"}],
                                     "fieldType": "string"},
                          "db": {"type": "user", "value": None, "fieldType": "object", "allowUserResources": True}},
                          "runnable": {"type": "runnableByName", "name": "Greet user", "inlineScript": {
                              "content": "def main(x: int, choice: str, db: dict):\n    return x\n", "language": "python3",
                              "lock": "# py: 3.12\nhttpx==0.27.0\n",
                              "schema": {"type": "object", "properties": {"x": {"type": "integer"}}, "required": []}}}}}},
            {"id": "b", "data": {"type": "tablecomponent", "id": "b", "configuration": {},
                                 "componentInput": {"type": "runnable", "fieldType": "array", "fields": {},
                                                    "runnable": {"type": "runnableByPath", "path": "f/demo/rows", "runType": "script",
                                                                 "schema": {}}},
                                 "actionButtons": [{"id": "b_0", "type": "buttoncomponent", "configuration": {},
                                                    "componentInput": {"type": "runnable", "fieldType": "any", "fields": {},
                                                                       "runnable": {"type": "runnableByName", "name": "Row action",
                                                                                    "inlineScript": {"content": "export async function main() {\n  return 2\n}\n",
                                                                                                     "language": "bun"}}}}]}},
            {"id": "g", "data": {"type": "selectcomponent", "id": "g", "configuration": {
                "items": {"type": "static", "value": [{"value": "a", "label": "A"}, {"value": "b", "label": "B"}]}},
                "componentInput": None}},
            {"id": "d", "data": {"type": "s3fileinputcomponent", "id": "d", "configuration": {"type": {"type": "oneOf", "selected": "s3",
                "configuration": {"s3": {"resource": {"type": "static", "value": "$res:f/demo/s3"},
                                         "pathTemplate": {"type": "static", "value": "uploads/a.txt"}}}}}}},
            {"id": "e", "data": {"type": "imagecomponent", "id": "e", "configuration": {
                "source": {"type": "static", "value": "s3://img/logo.png"}, "sourceKind": {"type": "static", "value": "url"}}}},
        ],
        "subgrids": {"b-0": [
            {"id": "c", "data": {"type": "textcomponent", "id": "c", "configuration": {},
                                 "componentInput": {"type": "runnable", "fieldType": "any", "fields": {"n": {"type": "static", "value": "x"}},
                                                    "runnable": {"type": "runnableByPath", "path": "f/demo/etl", "runType": "flow",
                                                                 "schema": {}}}}}]},
        "hiddenInlineScripts": [
            {"name": "Greet user", "type": "runnableByName", "fields": {}, "autoRefresh": False,
             "inlineScript": {"content": "SELECT 1;\n", "language": "postgresql"}},
            {"type": "runnableByName", "fields": {"k": {"type": "static", "value": 3}},
             "inlineScript": {"content": "export async function main(k: number) {\n  return k\n}\n", "language": "deno",
                              "lock": "{}\n", "tag": "gpu"}},
        ],
        "css": {}, "norefreshbar": False, "unusedInlineScripts": [],
    },
    "policy": {"execution_mode": "publisher", "on_behalf_of": "u/admin", "on_behalf_of_email": "admin@windmill.dev",
               "triggerables_v2": {"a:rawscript/old": {"static_inputs": {}}}},
}
PUBLIC = {"summary": "Public page", "value": {"grid": [], "hiddenInlineScripts": []},
          "policy": {"execution_mode": "anonymous", "triggerables_v2": {}}}

out = pathlib.Path(sys.argv[1])
readme = (out / "README.md").read_text() if (out / "README.md").exists() else None
shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
if readme is not None:
    (out / "README.md").write_text(readme)
(out / "workspace.json").write_text(json.dumps({"apps": {"f/demo/dash": APP, "f/demo/public": PUBLIC}}, indent=2) + "\n")
for layout in ("dotted", "nondotted"):
    wm = fake(); wm.apps.update(copy.deepcopy({"f/demo/dash": APP, "f/demo/public": PUBLIC}))
    repo = out / f"pull-{layout}"; repo.mkdir()
    (repo / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\nskipFolders: true\n" + ("nonDottedPaths: true\n" if layout == "nondotted" else ""))
    run(wm, repo, "sync", "pull", "--yes")
    print([(r.method, r.path, r.status) for r in wm.requests], file=sys.stderr)
    wm.stop()
    for junk in (".home", ".cfg", "wmill-lock.yaml"):
        p = repo / junk
        shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)

work = out / "work"; shutil.copytree(out / "pull-dotted", work)
wm = fake()
run(wm, work, "sync", "push", "--yes")
app = work / "f/demo/dash.app"
(app / "greet_user.inline_script.py").write_text("def main(x: int, choice: str, db: dict):\n    return x + 1\n")
y = app / "app.yaml"; y.write_text(y.read_text().replace("Demo dashboard", "Demo board"))
run(wm, work, "sync", "push", "--yes")
shutil.rmtree(work / "f/demo/public.app")
run(wm, work, "sync", "push", "--yes")
with open(out / "push.jsonl", "w") as fh:
    for r in wm.requests:
        doc = {"method": r.method, "path": r.path, "query": {k: v[-1] for k, v in r.query.items()}, "status": r.status}
        if r.body:
            doc["body_json"] = json.loads(r.body)
        fh.write(json.dumps(doc) + "\n")
print([(r.method, r.path, r.status) for r in wm.requests], file=sys.stderr)
print("violations", wm.violations, file=sys.stderr)
wm.stop()
shutil.rmtree(work)

# syncBehavior v1: the same repo pushed by an admin into the workspace holding both apps (owners kept)
work = out / "work-v1"; shutil.copytree(out / "pull-dotted", work)
(work / "wmill.yaml").write_text((work / "wmill.yaml").read_text() + "syncBehavior: v1\n")
y = work / "f/demo/dash.app/app.yaml"; y.write_text(y.read_text().replace("Demo dashboard", "Demo board"))
wm = fake(); wm.apps.update(copy.deepcopy({"f/demo/dash": APP, "f/demo/public": PUBLIC}))
run(wm, work, "sync", "push", "--yes")
with open(out / "push-v1.jsonl", "w") as fh:
    for r in wm.requests:
        doc = {"method": r.method, "path": r.path, "query": {k: v[-1] for k, v in r.query.items()}, "status": r.status}
        if r.body:
            doc["body_json"] = json.loads(r.body)
        fh.write(json.dumps(doc) + "\n")
print([(r.method, r.path, r.status) for r in wm.requests], file=sys.stderr)
wm.stop()
shutil.rmtree(work)
