# The same subnets in PyTorch, for `nat bench supernet`: reads a JSON list of plans (nat/space
# Plan layers) on argv[1] and prints a JSON list of {"train_ips", "infer_ips"} on stdout.
# Mirrors nat/supernet's forward: stem conv3x3+BN+act; MBConv (1x1 expand+BN+act, depthwise
# kxk+BN+act, SE with ReLU and h-sigmoid, 1x1 project+BN, identity shortcut); 1x1 final expand
# +BN+act; global pool; feature mix (no BN) + act; dropout; linear classifier.
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

def act(name):
    return {"relu": nn.ReLU(), "h_swish": nn.Hardswish(), "h_sigmoid": nn.Hardsigmoid(),
            "mish": nn.Mish(), "none": nn.Identity(), "": nn.Identity()}[name]

class SE(nn.Module):
    def __init__(self, c, r):
        super().__init__()
        self.fc1, self.fc2 = nn.Conv2d(c, r, 1), nn.Conv2d(r, c, 1)
    def forward(self, x):
        s = x.mean((2, 3), keepdim=True)
        return x * F.hardsigmoid(self.fc2(F.relu(self.fc1(s))))

class MB(nn.Module):
    def __init__(self, l):
        super().__init__()
        layers = []
        if l["Expand"] != 1:
            layers += [nn.Conv2d(l["InC"], l["MidC"], 1, bias=False), nn.BatchNorm2d(l["MidC"]), act(l["Act"])]
        k = l["Kernel"]
        layers += [nn.Conv2d(l["MidC"], l["MidC"], k, l["Stride"], k // 2, groups=l["MidC"], bias=False),
                   nn.BatchNorm2d(l["MidC"]), act(l["Act"])]
        if l["SE"]:
            layers.append(SE(l["MidC"], l["SEMidC"]))
        layers += [nn.Conv2d(l["MidC"], l["OutC"], 1, bias=False), nn.BatchNorm2d(l["OutC"])]
        self.body, self.res = nn.Sequential(*layers), l["Residual"]
    def forward(self, x):
        y = self.body(x)
        return x + y if self.res else y

def build(plan):
    mods = []
    for l in plan["Layers"]:
        kind = l["Kind"]
        if kind == "conv":
            mods += [nn.Conv2d(l["InC"], l["OutC"], 3, l["Stride"], 1, bias=False), nn.BatchNorm2d(l["OutC"]), act(l["Act"])]
        elif kind == "mbconv":
            mods.append(MB(l))
        elif kind == "final_expand":
            mods += [nn.Conv2d(l["InC"], l["OutC"], 1, bias=False), nn.BatchNorm2d(l["OutC"]), act(l["Act"]),
                     nn.AdaptiveAvgPool2d(1), nn.Flatten()]
        elif kind == "feature_mix":
            mods += [nn.Linear(l["InC"], l["OutC"], bias=False), act(l["Act"]), nn.Dropout(plan["Dropout"])]
        elif kind == "classifier":
            mods.append(nn.Linear(l["InC"], l["OutC"]))
    return nn.Sequential(*mods)

def main():
    cfg = json.load(open(sys.argv[1]))
    torch.set_num_threads(cfg["threads"])
    torch.manual_seed(0)
    out = []
    for plan in cfg["plans"]:
        net = build(plan)
        r, c, n = plan["Resolution"], plan["InChannels"], plan["Classes"]
        opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, nesterov=True, weight_decay=3e-5)
        xb = torch.randn(cfg["train_batch"], c, r, r)
        yb = torch.randint(0, n, (cfg["train_batch"],))
        net.train()
        def step():
            opt.zero_grad()
            loss = F.cross_entropy(net(xb), yb, label_smoothing=0.1)
            loss.backward()
            opt.step()
        step()
        t0, c0 = time.perf_counter(), time.process_time()
        for _ in range(cfg["train_steps"]):
            step()
        train_ips = cfg["train_batch"] * cfg["train_steps"] / (time.perf_counter() - t0)
        train_cpu = cfg["train_batch"] * cfg["train_steps"] / (time.process_time() - c0)
        net.eval()
        xi = torch.randn(cfg["infer_batch"], c, r, r)
        with torch.no_grad():
            net(xi)
            t0, c0 = time.perf_counter(), time.process_time()
            for _ in range(cfg["infer_runs"]):
                net(xi)
            infer_ips = cfg["infer_batch"] * cfg["infer_runs"] / (time.perf_counter() - t0)
            infer_cpu = cfg["infer_batch"] * cfg["infer_runs"] / (time.process_time() - c0)
        out.append({"train_ips": train_ips, "infer_ips": infer_ips, "train_ips_cpu": train_cpu, "infer_ips_cpu": infer_cpu})
    print(json.dumps({"version": torch.__version__, "results": out}))

main()
