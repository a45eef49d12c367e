import json, subprocess, sys, os, shutil, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parents[5]))
from tests.remote.fakewindmill import FakeWindmill, as_json, text
WMILL = "/work/npm-wmill/node_modules/.bin/wmill"

def fake():
    wm = FakeWindmill().start()
    orig = wm.handle
    def handle(method, target, headers, body):
        if target.split("?")[0].endswith("/users/whoami"):
            return as_json(200, {"email": "admin@windmill.dev", "username": "admin", "is_admin": True, "is_super_admin": True,
                                 "created_at": "2024-01-01T00:00:00Z", "operator": False, "disabled": False,
                                 "folders": [], "folders_read": [], "folders_owners": []})
        return orig(method, target, headers, body)
    wm.handle = handle
    return wm

def run(wm, cwd, *args):
    env = {**os.environ, "HOME": str(cwd) + "/.home", "XDG_CONFIG_HOME": str(cwd) + "/.cfg"}
    p = subprocess.run([WMILL, *args, "--base-url", wm.url + "/", "--token", wm.token, "--workspace", "test"],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    print(p.returncode, p.stdout[-3000:], p.stderr[-3000:], file=sys.stderr)
    return p
