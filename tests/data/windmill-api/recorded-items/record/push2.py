import sys, pathlib, shutil, json
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from rec import fake, run
src = pathlib.Path(sys.argv[1]); out = pathlib.Path(sys.argv[2])
shutil.rmtree(out, ignore_errors=True); shutil.copytree(src, out, ignore=shutil.ignore_patterns(".home", ".cfg"))
wm = fake()
run(wm, out, "sync", "push", "--yes")
n = len(wm.requests)
flow = next(out.glob("f/demo/etl*/flow.yaml")).parent
(flow / ("extract_data.inline_script.py" if flow.name.endswith(".flow") else "extract_data.py")).write_text("def main(x: int = 1):\n    return x + 1\n")
s = out / "f/demo/noon.schedule.yaml"
s.write_text(s.read_text().replace("Europe/Paris", "UTC").replace("enabled: true", "enabled: false"))
(out / "f/demo/hook.http_trigger.yaml").unlink()
f = out / "f/demo/folder.meta.yaml"
f.write_text(f.read_text().replace("Demo things", "Demo stuff"))
run(wm, out, "sync", "push", "--yes")
with open(sys.argv[3], "w") as fh:
    for r in wm.requests:
        doc = {"method": r.method, "path": r.path, "query": {k: v[-1] for k, v in r.query.items()}, "status": r.status}
        if r.body:
            doc["body_json"] = json.loads(r.body)
        fh.write(json.dumps(doc) + "\n")
print([(r.method, r.path, r.status) for r in wm.requests[n:]], file=sys.stderr)
wm.stop()
