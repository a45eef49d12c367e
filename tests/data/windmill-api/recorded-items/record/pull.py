import sys, pathlib, shutil
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from rec import fake, run
from state import load
out = pathlib.Path(sys.argv[1]); layout = sys.argv[2]
shutil.rmtree(out, ignore_errors=True); out.mkdir(parents=True)
wm = fake(); load(wm)
(out / "wmill.yaml").write_text("defaultTs: bun\nincludes:\n  - f/**\nincludeSchedules: true\nincludeTriggers: true\n" + ("nonDottedPaths: true\n" if layout == "nondotted" else "") + ("syncBehavior: v1\n" if layout == "v1" else ""))
run(wm, out, "sync", "pull", "--yes")
print([(r.method, r.path, r.status) for r in wm.requests], file=sys.stderr)
wm.stop()
