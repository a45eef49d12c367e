FLOW = {
    "summary": "ETL: nightly",
    "description": "Loads 'rows'\nthen reports",
    "value": {
        "modules": [
            {"id": "a", "summary": "Extract data", "value": {"type": "rawscript", "content": "def main(x: int = 1):\n    return x\n",
             "language": "python3", "lock": "# py: 3.12\nhttpx==0.27.0\n", "input_transforms": {"x": {"type": "static", "value": 2}}}},
            {"id": "b", "value": {"type": "forloopflow", "iterator": {"type": "javascript", "expr": "results.a"},
             "skip_failures": False, "parallel": True,
             "modules": [{"id": "c", "summary": "", "value": {"type": "rawscript", "content": "export async function main() {\n  return 1\n}\n",
                          "language": "bun", "input_transforms": {}}}]}},
            {"id": "d", "value": {"type": "branchone", "branches": [
                {"expr": "true", "summary": "yes", "modules": [{"id": "e", "summary": "Extract Data", "value": {"type": "rawscript",
                  "content": "SELECT 1;\n", "language": "postgresql", "input_transforms": {}}}]}],
                "default": [{"id": "f", "value": {"type": "script", "path": "f/demo/other", "input_transforms": {}}}]}},
        ],
        "failure_module": {"id": "failure", "value": {"type": "rawscript", "content": "def main(error):\n    return error\n",
                                                       "language": "python3", "input_transforms": {}}},
    },
    "schema": {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "object",
               "properties": {"x": {"type": "integer", "default": 1, "description": ""}}, "required": [], "order": ["x"]},
    "on_behalf_of_email": "admin@windmill.dev",
}
SCHEDULE = {"schedule": "0 0 12 * * *", "timezone": "Europe/Paris", "script_path": "f/demo/etl", "is_flow": True,
            "args": {"x": 3}, "enabled": True, "summary": "noon run", "no_flow_overlap": False,
            "permissioned_as": "u/admin", "email": "admin@windmill.dev", "edited_by": "admin"}
TRIGGER = {"script_path": "f/demo/etl", "is_flow": True, "route_path": "demo/hook", "http_method": "post",
           "authentication_method": "none", "is_static_website": False, "workspaced_route": False,
           "wrap_body": False, "raw_string": False, "summary": None, "permissioned_as": "u/admin", "edited_by": "admin"}
FOLDER = {"summary": "Demo things", "display_name": "demo", "owners": ["u/admin"], "extra_perms": {"g/all": False}}

def load(wm):
    wm.flows["f/demo/etl"] = FLOW
    wm.schedules["f/demo/noon"] = SCHEDULE
    wm.triggers["http"]["f/demo/hook"] = TRIGGER
    wm.folders["demo"] = FOLDER
