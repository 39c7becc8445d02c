#!/usr/bin/env python3
"""A stand-in for Claude Code / Codex in tests: finds the proxy the way the real agent does
(ANTHROPIC_BASE_URL, or Codex's `-c model_providers.headroom.*` overrides), sends the requests of
the plan in $STUB_PLAN with the credentials the real agent would send, and writes what it saw to
$STUB_OUT. Exits with the plan's exit code."""
import http.client
import json
import os
import re
import sys
import urllib.parse

plan = json.load(open(os.environ["STUB_PLAN"]))
argv = sys.argv[1:]

overrides = {}
for i, arg in enumerate(argv):
    if arg == "-c" and i + 1 < len(argv) and "=" in argv[i + 1]:
        key, value = argv[i + 1].split("=", 1)
        overrides[key] = value.strip('"')

if "model_providers.headroom.base_url" in overrides:  # Codex
    base = overrides["model_providers.headroom.base_url"]
    auth = {}
    key_var = overrides.get("model_providers.headroom.env_key")
    if key_var and os.environ.get(key_var):
        auth["Authorization"] = "Bearer " + os.environ[key_var]
    elif "model_providers.headroom.requires_openai_auth" in overrides and os.environ.get("STUB_OWN_LOGIN"):
        # Codex's own sign-in (auth.json, a ChatGPT login).
        auth["Authorization"] = "Bearer " + os.environ["STUB_OWN_LOGIN"]
    # env_http_headers: header values read from the environment.
    for header, var in re.findall(r'"([^"]+)"\s*=\s*"([^"]+)"', overrides.get("model_providers.headroom.env_http_headers", "")):
        if os.environ.get(var):
            auth[header] = os.environ[var]
else:  # Claude Code
    base = os.environ["ANTHROPIC_BASE_URL"]
    auth = {}
    if os.environ.get("ANTHROPIC_AUTH_TOKEN"):
        auth["Authorization"] = "Bearer " + os.environ["ANTHROPIC_AUTH_TOKEN"]
    elif os.environ.get("ANTHROPIC_API_KEY"):
        auth["x-api-key"] = os.environ["ANTHROPIC_API_KEY"]

parsed = urllib.parse.urlsplit(base)
if plan.get("announce"):
    # Where the proxy listens, for a test that attacks it meanwhile.
    json.dump({"address": f"{parsed.hostname}:{parsed.port}", "path": parsed.path, "headers": auth,
               "pid": os.getpid()},
              open(plan["announce"] + ".tmp", "w"))
    os.rename(plan["announce"] + ".tmp", plan["announce"])
if plan.get("wait_for"):
    import time
    deadline = time.time() + 30
    while not os.path.exists(plan["wait_for"]) and time.time() < deadline:
        time.sleep(0.01)
out = {"argv": argv, "env": {k: os.environ.get(k) for k in plan.get("env_dump", [])}, "base": base, "responses": []}
for request in plan.get("requests", []):
    path = request["path"]
    if request.get("raw_path"):
        full_path = path
    else:
        full_path = parsed.path.rstrip("/") + path
    body = request.get("body_raw")
    if body is None:
        body = json.dumps(request["body"])
    # "as_other_user": what another local user can send, knowing only this process's argv.
    headers = {} if request.get("as_other_user") else dict(auth)
    headers.update(request.get("headers", {}))
    headers.setdefault("content-type", "application/json")
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    conn.request(request.get("method", "POST"), full_path, body=body.encode(), headers=headers)
    resp = conn.getresponse()
    gate = request.get("gate")
    data = b""
    if gate:
        # Read up to the end of the first SSE event, then tell the upstream we got it.
        while b"\n\n" not in data:
            chunk = resp.read1(65536)
            if not chunk:
                break
            data += chunk
        open(gate, "w").write("first event received\n")
    if request.get("abandon"):
        # Hang up mid-stream, as an agent does when the user interrupts it.
        conn.sock.close()
        out["responses"].append({"status": resp.status, "headers": {}, "body": data.decode("utf-8", "replace")})
        continue
    data += resp.read()
    out["responses"].append({
        "status": resp.status,
        "headers": {k.lower(): v for k, v in resp.getheaders()},
        "body": data.decode("utf-8", "replace"),
    })
    conn.close()

# "run": commands run as the agent runs them (Claude Code's status line command), inheriting its
# environment, with a stdin of the plan's; their stdout is kept.
import subprocess
for run in plan.get("run", []):
    done = subprocess.run(run["argv"], input=run.get("stdin", "").encode(), capture_output=True, timeout=30,
                          env={**os.environ, **run.get("env", {})})
    out.setdefault("runs", []).append({"code": done.returncode, "stdout": done.stdout.decode("utf-8", "replace"),
                                       "stderr": done.stderr.decode("utf-8", "replace")})
json.dump(out, open(os.environ["STUB_OUT"], "w"))
if plan.get("linger"):
    # Keep running, as an agent waiting for its user does.
    import time
    open(plan["linger"]["done"], "w").write("requests sent\n")
    time.sleep(plan["linger"]["seconds"])
sys.exit(plan.get("exit_code", 0))
