# Drives the NAT kernel with jupyter_client as Jupyter frontends do: interrupt, restart, shutdown.
# Run by notebooks_test.go with the kernelspec "nat" installed; prints "ok" when every check passed.
import sys, time, queue
from jupyter_client.manager import KernelManager

km = KernelManager(kernel_name="nat")
km.start_kernel()
kc = km.client()
kc.start_channels()
kc.wait_for_ready(timeout=60)

def run(code, timeout=30):
    msgs = []
    reply = kc.execute_interactive(code, timeout=timeout, output_hook=msgs.append)
    return reply["content"], msgs

r, _ = run("x := 41")
assert r["status"] == "ok", r
# interrupt a spinning cell from another thread after 1 s
import threading
threading.Timer(1.0, km.interrupt_kernel).start()
t0 = time.time()
r, _ = run("for {\n}", timeout=30)
print("interrupt:", r["status"], r.get("ename"), round(time.time()-t0, 2), "s")
assert r["status"] == "error" and r["ename"] == "Interrupted", r
r, msgs = run("x + 1")
vals = [m["content"]["data"]["text/plain"] for m in msgs if m["msg_type"] == "execute_result"]
print("after interrupt x+1 =", vals)
assert vals == ["42"], vals
km.restart_kernel(now=False)
kc.wait_for_ready(timeout=60)
r, msgs = run("x")
print("after restart:", r["status"], r.get("evalue"))
assert r["status"] == "error", r
r, msgs = run("y := 1\ny")
assert r["status"] == "ok", r
kc.stop_channels()
km.shutdown_kernel(now=False)
print("ok", flush=True)
import os
os._exit(0)  # skip jupyter_client's noisy finalizers at interpreter exit
